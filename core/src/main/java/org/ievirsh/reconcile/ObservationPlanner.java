package org.ievirsh.reconcile;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Predicate;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.libvirt.DomainState;
import org.ievirsh.libvirt.StopReason;

/**
 * ObservationPlanner decides what the blades' domains of one VM are: none,
 * the one domain, one beside stale copies, a VM stranded on a dead blade, or
 * a conflict an admin must settle. It is pure.
 */
public final class ObservationPlanner {

    private ObservationPlanner() {
    }

    /**
     * What the blades show of one VM: none, its one domain (and whether its
     * blade answers), or a conflict an admin must settle: domains on several
     * blades, or a domain of this name that belongs to another uid.
     */
    public static Observation observe(String vm, int uid, List<ObservedDomain> domains, Predicate<String> bladeUp) {
        return observe(vm, uid, domains, bladeUp, BladeDown.KEEP);
    }

    /**
     * BladeDown is the admin's {@code bladeDown} as the planner needs it:
     * whether VMs of an unreachable blade are restarted elsewhere, and for
     * each blade, how long it has been unreachable once that is past
     * {@code bladeDown.after} (empty while it is not).
     */
    public record BladeDown(boolean restartElsewhere,
                            java.util.function.Function<String, Optional<Duration>> strandedFor, boolean lockEngine) {
        public static final BladeDown KEEP = new BladeDown(false, blade -> Optional.empty(), false);

        public BladeDown(boolean restartElsewhere, java.util.function.Function<String, Optional<Duration>> strandedFor) {
            this(restartElsewhere, strandedFor, restartElsewhere);  // the config refuses restartElsewhere without one
        }

        /** {@code keep}, with or without a lock engine (sanlock, lockd) that says which copy has the disk. */
        public static BladeDown keep(boolean lockEngine) {
            return lockEngine ? new BladeDown(false, blade -> Optional.empty(), true) : KEEP;
        }
    }

    /**
     * What the blades show of one VM. A definition left shut off by a move
     * (stop reason MIGRATED) does not count beside the moved domain. With
     * {@code restartElsewhere}, a VM whose only domain is on a blade down for
     * longer than {@code bladeDown.after} is stranded (started elsewhere); a
     * domain on an unreachable blade beside a reachable one waits, untouched;
     * and a shut-off definition beside the running domain is stale (removed).
     * The same VM (one UUID) shut off on several reachable blades, a stopped
     * VM's move cut short, keeps its first definition; the others are stale.
     */
    public static Observation observe(String vm, int uid, List<ObservedDomain> domains, Predicate<String> bladeUp,
                                      BladeDown down) {
        List<ObservedDomain> seen = domains;
        if (seen.size() > 1 && seen.stream().anyMatch(d -> d.stopReason() == StopReason.MIGRATED && !d.isActive())) {
            seen = seen.stream().filter(d -> d.isActive() || d.stopReason() != StopReason.MIGRATED).toList();
        }
        for (ObservedDomain d : seen) {
            if (d.config().uid() != uid) {
                return new Observation.Conflict("domain " + d.name() + " on " + d.blade() + " belongs to uid "
                        + d.config().uid() + ", not to uid " + uid + "; an admin must decide what to do with it");
            }
        }
        if (seen.isEmpty()) {
            return new Observation.None();
        }
        if (seen.size() == 1) {
            ObservedDomain d = seen.get(0);
            boolean up = bladeUp.test(d.blade());
            Optional<Duration> stranded = down.restartElsewhere() && !up ? down.strandedFor().apply(d.blade())
                    : Optional.empty();
            return stranded.isPresent() ? new Observation.Stranded(d, stranded.get()) : new Observation.Found(d, up);
        }
        ObservedDomain first = seen.get(0);
        List<ObservedDomain> running = seen.stream().filter(d -> d.state() == DomainState.RUNNING).toList();
        if (running.size() == 1 && seen.stream().allMatch(d -> d.uuid().equals(first.uuid()) && bladeUp.test(d.blade())
                && (d == running.get(0) || d.state() == DomainState.PAUSED || !d.isActive() && down.lockEngine()))) {
            // A live move whose last step failed (libvirt: "probably left in 'paused' state on source") leaves the
            // source paused beside the guest running on the destination, or shut off once that blade's libvirtd
            // restarted. The running one has the disk (a paused domain holds no lease, nor QEMU's image lock);
            // the other copy can never run again: it goes. A shut-off definition goes only with a lock engine,
            // which keeps it from ever starting beside the running one; without one, an admin decides.
            return new Observation.Stale(running.get(0), seen.stream().filter(d -> d != running.get(0)).toList());
        }
        if (seen.stream().allMatch(d -> !d.isActive() && d.uuid().equals(first.uuid()) && bladeUp.test(d.blade()))) {
            // The same VM shut off on several blades that answer: a stopped VM's move (its definition defined
            // there, then undefined here) cut short. It runs nowhere and every definition is the controller's
            // own, rendered again at the next pass: one is kept, the others go, and nothing is lost.
            return new Observation.Stale(first, seen.subList(1, seen.size()));
        }
        if (down.restartElsewhere()) {
            List<ObservedDomain> up = seen.stream().filter(d -> bladeUp.test(d.blade())).toList();
            if (up.size() == 1) {
                return new Observation.Found(up.get(0), true);  // the others wait, untouched, for their blade
            }
            List<ObservedDomain> active = up.stream().filter(ObservedDomain::isActive).toList();
            if (active.size() == 1 && up.size() == seen.size()) {
                return new Observation.Stale(active.get(0), up.stream().filter(d -> !d.isActive()).toList());
            }
        }
        return new Observation.Conflict("VM " + vm + " has a domain on " + seen.size() + " blades ("
                + String.join(", ", seen.stream().map(ObservedDomain::blade).sorted().toList())
                + "); it is not touched until an admin removes all but one");
    }

    /**
     * A stranded VM is made again elsewhere only when it should run; one
     * that stays off (Halted, or powered off by its guest) waits for its
     * blade, so that two shut-off definitions never meet when it returns.
     */
    public static Observation strandedIfItShouldRun(Observation seen, Desired desired, VmHistory history) {
        if (seen instanceof Observation.Stranded stranded && !(desired instanceof Desired.Valid valid
                && VmPlanner.wantsToRun(valid.vm().runStrategy(), stranded.domain(), history))) {
            return new Observation.Found(stranded.domain(), false);
        }
        return seen;
    }

    /**
     * With {@code bladeDown: restartElsewhere}, the first moment a VM of
     * the student whose blade is unreachable becomes stranded: the pass is
     * made again then, whatever else changes. Only moments still to come: a
     * VM past it that stays where it is (one that should not run) waits for
     * its blade, not for the clock.
     *
     * @param strandedAt when a blade unreachable now becomes stranded, given {@code bladeDown.after}
     */
    public static Optional<Instant> strandedAt(List<Observation> seen, ControllerConfig.BladeDown policy,
                                               BiFunction<String, Duration, Optional<Instant>> strandedAt,
                                               Instant now) {
        Optional<Instant> first = Optional.empty();
        if (!policy.restartElsewhere()) {
            return first;
        }
        for (Observation vm : seen) {
            if (vm instanceof Observation.Found found && !found.bladeUp()) {
                Optional<Instant> at = strandedAt.apply(found.domain().blade(), policy.after()).filter(now::isBefore);
                if (at.isPresent() && (first.isEmpty() || at.get().isBefore(first.get()))) {
                    first = at;
                }
            }
        }
        return first;
    }
}
