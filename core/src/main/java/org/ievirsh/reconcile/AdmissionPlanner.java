package org.ievirsh.reconcile;

import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.Quantities;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.quota.Admission;
import org.ievirsh.quota.QuotaLimits;

/**
 * AdmissionPlanner decides, from what the gatherer read, which of one student's VMs
 * count against which quota and which of them may run. It is pure: the
 * verdicts are returned, nothing is changed.
 */
final class AdmissionPlanner {

    private AdmissionPlanner() {
    }

    /**
     * One VM as the quota sees it.
     *
     * @param age        its file's order of arrival (smaller is older); unused for a file that is not valid
     * @param wantsToRun a valid file's run strategy wants it running now
     * @param course     the course whose quota it counts against (empty: the student's own)
     * @param domains    its domains, as the blades that answer show them
     */
    record Vm(String name, Desired desired, long age, boolean wantsToRun, Optional<ControllerConfig.Course> course,
              List<ObservedDomain> domains) {
    }

    /** The phases of a status that leave its VM possibly running on its blade. */
    private static final Set<Phase> MAY_RUN_THERE = EnumSet.of(Phase.Pending, Phase.Starting, Phase.Running,
            Phase.Stopping, Phase.Unknown, Phase.Terminating, Phase.Error, Phase.CrashLoopBackOff);

    /**
     * The VMs away: no blade that answers shows a domain of them, but their
     * last status names a blade that does not answer (or was not listed yet)
     * in a phase that may run there. Without them, a new leader that has not
     * seen that blade would start one VM more than {@code runningVms} allows
     * (found by bench chaos). A student's own status file can only make their
     * quota tighter here.
     *
     * @param statuses    the last statuses of the student's VMs
     * @param seen        the VMs some blade shows a domain of (or is in conflict about)
     * @param unreachable the blades that do not answer
     */
    static Map<String, VmStatus> away(Map<String, VmStatus> statuses, Set<String> seen, Collection<String> unreachable) {
        Map<String, VmStatus> away = new TreeMap<>();
        statuses.forEach((vm, last) -> {
            if (!seen.contains(vm) && last.blade() != null && unreachable.contains(last.blade())
                    && MAY_RUN_THERE.contains(last.phase())) {
                away.put(vm, last);
            }
        });
        return away;
    }

    /**
     * The verdict of each VM with a valid file: a course VM is admitted
     * against its course's quota (while its student is in the course's
     * group), the others against the student's own. A VM runs for the quota
     * while any of its domains is active (also one on two blades, or beside a
     * stale copy); a VM {@code away} holds its place and a running slot. A
     * domain whose file is gone (its removal may wait) or broken (it is left
     * as it is) holds its place too, and runs while it runs: without it,
     * breaking or removing a file would make room for one VM more than the
     * quota allows.
     */
    static Map<String, Admission.Verdict> admit(Collection<Vm> vms, Map<String, VmStatus> away,
                                                Function<Optional<ControllerConfig.Course>, QuotaLimits> limitsOf) {
        Map<Optional<ControllerConfig.Course>, List<Admission.Candidate>> buckets = new HashMap<>();
        Set<String> valid = new java.util.HashSet<>();
        Set<String> placed = new java.util.HashSet<>();
        for (Vm vm : vms) {
            boolean isAway = away.containsKey(vm.name());
            boolean active = isAway || vm.domains().stream().anyMatch(ObservedDomain::isActive);
            if (vm.desired() instanceof Desired.Valid file) {
                valid.add(vm.name());
                placed.add(vm.name());
                bucket(buckets, vm.course()).add(new Admission.Candidate(vm.name(), file.vcpus(), file.memoryBytes(),
                        vm.age(), !vm.domains().isEmpty() || isAway, vm.wantsToRun(), active));
            } else if (!vm.domains().isEmpty()) {
                placed.add(vm.name());
                ObservedDomain first = vm.domains().get(0);
                bucket(buckets, Optional.empty()).add(new Admission.Candidate(vm.name(), first.config().vcpus(),
                        first.config().memoryBytes(), Long.MIN_VALUE, true, false, active));
            }
        }
        away.forEach((name, last) -> {
            if (!placed.contains(name)) {
                bucket(buckets, Optional.empty()).add(new Admission.Candidate(name,
                        last.vcpus() == null ? 0 : last.vcpus(), memoryOf(last), Long.MIN_VALUE, true, false, true));
            }
        });
        Map<String, Admission.Verdict> verdicts = new TreeMap<>();
        buckets.forEach((course, candidates) -> Admission.decide(candidates, limitsOf.apply(course))
                .forEach((name, verdict) -> {
                    if (valid.contains(name)) {  // the others are only counted
                        verdicts.put(name, verdict.in(course.map(ControllerConfig.Course::name)));
                    }
                }));
        return verdicts;
    }

    private static List<Admission.Candidate> bucket(Map<Optional<ControllerConfig.Course>, List<Admission.Candidate>> b,
                                                    Optional<ControllerConfig.Course> course) {
        return b.computeIfAbsent(course, c -> new ArrayList<>());
    }

    private static long memoryOf(VmStatus status) {
        try {
            return status.memory() == null ? 0 : Quantities.parseBytes(status.memory());
        } catch (RuntimeException e) {
            return 0;
        }
    }
}
