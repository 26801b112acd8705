package org.ievirsh.status;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.ievirsh.api.v1.Condition;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.VmStatus;

/**
 * StatusBook holds the latest status of every VM, for the admins' API and
 * the metrics. The files in students' directories are the students' copy.
 */
public final class StatusBook {
    private final Map<String, Map<String, VmStatus>> byUser = new ConcurrentHashMap<>();
    /**
     * What each user's statuses add to the counts the metrics read: kept
     * as statuses change, so that a scrape reads them without going over
     * 40,000 statuses.
     */
    private final Map<String, Tally> tallies = new ConcurrentHashMap<>();
    /** VMs by blade ("none" when not placed), by phase (ordinal); guarded by this. */
    private final Map<String, int[]> byBladeAndPhase = new HashMap<>();
    private int expiring;

    /** Tally is one user's share of the counts. */
    private record Tally(Map<String, int[]> byBladeAndPhase, int expiring, int admitted) {
        static final Tally NONE = new Tally(Map.of(), 0, 0);

        static Tally of(Map<String, VmStatus> statuses) {
            Map<String, int[]> byBlade = new HashMap<>(4);
            int expiring = 0;
            int admitted = 0;
            for (VmStatus s : statuses.values()) {
                byBlade.computeIfAbsent(s.blade() == null ? "none" : s.blade(),
                        b -> new int[Phase.values().length])[s.phase().ordinal()]++;
                expiring += isExpiring(s) ? 1 : 0;
                admitted += isTrue(s, Condition.ADMITTED) ? 1 : 0;
            }
            return new Tally(byBlade, expiring, admitted);
        }
    }

    /** Records the statuses of all of {@code user}'s VMs (replacing the previous set). */
    public void putUser(String user, Map<String, VmStatus> statuses) {
        Map<String, VmStatus> copy = Map.copyOf(statuses);
        Tally tally = Tally.of(copy);
        synchronized (this) {
            if (copy.isEmpty()) {
                byUser.remove(user);
            } else {
                byUser.put(user, copy);
            }
            retally(user, copy.isEmpty() ? null : tally);
        }
    }

    /** Replaces what {@code user} adds to the counts by {@code now} (null: nothing). */
    private synchronized void retally(String user, Tally now) {
        Tally before = now == null ? tallies.remove(user) : tallies.put(user, now);
        add(before == null ? Tally.NONE : before, -1);
        add(now == null ? Tally.NONE : now, 1);
    }

    private void add(Tally tally, int sign) {
        expiring += sign * tally.expiring();
        tally.byBladeAndPhase().forEach((blade, phases) -> {
            int[] counts = byBladeAndPhase.computeIfAbsent(blade, b -> new int[Phase.values().length]);
            for (int i = 0; i < phases.length; i++) {
                counts[i] += sign * phases[i];
            }
        });
    }

    /** Forgets a user (their directory is gone). */
    public synchronized void removeUser(String user) {
        byUser.remove(user);
        retally(user, null);
    }

    /** How many of {@code user}'s VMs count against their quota now (condition Admitted True). */
    public int admitted(String user) {
        return tallies.getOrDefault(user, Tally.NONE).admitted();
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

    /** How many VMs are in {@code phase} now (on every blade, placed or not). */
    public synchronized int count(Phase phase) {
        int count = 0;
        for (int[] phases : byBladeAndPhase.values()) {
            count += phases[phase.ordinal()];
        }
        return count;
    }

    /** How many VMs are within their warning time before expiry (condition Expiring True, not yet Expired). */
    public synchronized int countExpiring() {
        return expiring;
    }

    private static boolean isExpiring(VmStatus s) {
        return s.phase() != Phase.Expired && isTrue(s, Condition.EXPIRING);
    }

    private static boolean isTrue(VmStatus s, String type) {
        Condition c = s.condition(type);
        return c != null && "True".equals(c.status());
    }

    /** Count of VMs by blade ("none" when not placed) and phase (phases without VMs left out). */
    public synchronized Map<String, Map<Phase, Integer>> countByBladeAndPhase() {
        Map<String, Map<Phase, Integer>> counts = new HashMap<>();
        byBladeAndPhase.forEach((blade, phases) -> {
            for (Phase phase : Phase.values()) {
                if (phases[phase.ordinal()] != 0) {
                    counts.computeIfAbsent(blade, b -> new EnumMap<>(Phase.class)).put(phase, phases[phase.ordinal()]);
                }
            }
        });
        return counts;
    }

    /** Users known, with their statuses. */
    public Map<String, Map<String, VmStatus>> users() {
        return Map.copyOf(byUser);
    }
}
