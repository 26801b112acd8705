package org.ievirsh.quota;

import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.ControllerConfig.Limits;

/**
 * QuotaLimits is what one user may have: admitted VMs, VMs running at once,
 * the sums of vCPUs and memory of the admitted VMs, and the sum of the
 * virtual sizes of the disks made from base images for them
 * ({@link #UNLIMITED} by default).
 */
public record QuotaLimits(int vms, int runningVms, int vcpus, long memoryBytes, long diskBytes) {

    /** UNLIMITED is a disk quota that never refuses. */
    public static final long UNLIMITED = Long.MAX_VALUE;
    /** DEFAULT applies where the config says nothing: the README's example. */
    public static final QuotaLimits DEFAULT = new QuotaLimits(4, 4, 8, 8L << 30, UNLIMITED);

    public QuotaLimits(int vms, int runningVms, int vcpus, long memoryBytes) {
        this(vms, runningVms, vcpus, memoryBytes, UNLIMITED);
    }

    /**
     * The limits of {@code user}, member of {@code groups}: the config's
     * default, then for each field the largest value among the user's groups
     * that set it, then the user's own entry. A field a level leaves out
     * keeps the value of the level below.
     */
    public static QuotaLimits resolve(ControllerConfig.Quota quota, String user, List<String> groups) {
        QuotaLimits limits = DEFAULT.overriddenBy(quota.defaults());
        Limits largest = Limits.EMPTY;
        for (String group : groups) {
            Limits entry = quota.groups().get(group);
            if (entry != null) {
                largest = new Limits(max(largest.vms(), entry.vms()), max(largest.runningVms(), entry.runningVms()),
                        max(largest.vcpus(), entry.vcpus()), max(largest.memoryBytes(), entry.memoryBytes()),
                        max(largest.diskBytes(), entry.diskBytes()));
            }
        }
        limits = limits.overriddenBy(largest);
        Limits own = quota.users().get(user);
        return own == null ? limits : limits.overriddenBy(own);
    }

    /**
     * The limits of one student's VMs of a course: the config's default,
     * then the course's {@code quota} for each field it sets.
     */
    public static QuotaLimits ofCourse(ControllerConfig.Quota quota, Limits course) {
        return DEFAULT.overriddenBy(quota.defaults()).overriddenBy(course);
    }

    private QuotaLimits overriddenBy(Limits limits) {
        return new QuotaLimits(limits.vms().orElse(vms), limits.runningVms().orElse(runningVms),
                limits.vcpus().orElse(vcpus), limits.memoryBytes().orElse(memoryBytes),
                limits.diskBytes().orElse(diskBytes));
    }

    private static <T extends Comparable<T>> Optional<T> max(Optional<T> a, Optional<T> b) {
        if (a.isEmpty()) {
            return b;
        }
        if (b.isEmpty()) {
            return a;
        }
        return a.get().compareTo(b.get()) >= 0 ? a : b;
    }

    static <T> String join(List<T> items, Function<T, String> name) {
        return String.join(", ", items.stream().map(name).toList());
    }
}
