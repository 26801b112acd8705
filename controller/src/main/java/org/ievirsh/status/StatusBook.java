package org.ievirsh.status;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.VmStatus;

/**
 * StatusBook holds the latest status of every VM, for the admins' API and
 * the metrics. The files in students' directories are the students' copy.
 */
public final class StatusBook {
    private final Map<String, Map<String, VmStatus>> byUser = new ConcurrentHashMap<>();

    /** Records the statuses of all of {@code user}'s VMs (replacing the previous set). */
    public void putUser(String user, Map<String, VmStatus> statuses) {
        if (statuses.isEmpty()) {
            byUser.remove(user);
        } else {
            byUser.put(user, Map.copyOf(statuses));
        }
    }

    /** Forgets a user (their directory is gone). */
    public void removeUser(String user) {
        byUser.remove(user);
    }

    public Map<String, VmStatus> ofUser(String user) {
        return byUser.getOrDefault(user, Map.of());
    }

    /** Every status, sorted by user and VM. */
    public List<VmStatus> all() {
        List<VmStatus> all = new ArrayList<>();
        byUser.values().forEach(m -> all.addAll(m.values()));
        all.sort(Comparator.comparing((VmStatus s) -> s.owner().user()).thenComparing(VmStatus::name));
        return all;
    }

    /** How many VMs are in {@code phase} now. */
    public int count(Phase phase) {
        int count = 0;
        for (Map<String, VmStatus> vms : byUser.values()) {
            for (VmStatus s : vms.values()) {
                count += s.phase() == phase ? 1 : 0;
            }
        }
        return count;
    }

    /** How many VMs are within their warning time before expiry (condition Expiring True, not yet Expired). */
    public int countExpiring() {
        int count = 0;
        for (Map<String, VmStatus> vms : byUser.values()) {
            for (VmStatus s : vms.values()) {
                if (s.phase() != Phase.Expired) {
                    org.ievirsh.api.v1.Condition c = s.condition(org.ievirsh.api.v1.Condition.EXPIRING);
                    count += c != null && "True".equals(c.status()) ? 1 : 0;
                }
            }
        }
        return count;
    }

    /** Count of VMs by blade ("none" when not placed) and phase. */
    public Map<String, Map<Phase, Integer>> countByBladeAndPhase() {
        Map<String, Map<Phase, Integer>> counts = new HashMap<>();
        for (Map<String, VmStatus> vms : byUser.values()) {
            for (VmStatus s : vms.values()) {
                String blade = s.blade() == null ? "none" : s.blade();
                counts.computeIfAbsent(blade, b -> new HashMap<>()).merge(s.phase(), 1, Integer::sum);
            }
        }
        return counts;
    }

    /** Users known, with their statuses. */
    public Map<String, Map<String, VmStatus>> users() {
        return Map.copyOf(byUser);
    }
}
