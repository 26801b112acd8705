package org.ievirsh.reconcile;

import static org.ievirsh.reconcile.StatusBuilder.build;
import static org.ievirsh.reconcile.StatusBuilder.cond;
import static org.ievirsh.reconcile.StatusBuilder.describe;
import static org.ievirsh.reconcile.StatusBuilder.seconds;
import static org.ievirsh.reconcile.StatusBuilder.status;
import static org.ievirsh.reconcile.StatusBuilder.withDomain;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.ievirsh.api.Problem;
import org.ievirsh.api.v1.Condition;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.Reasons;
import org.ievirsh.api.v1.RunStrategy;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.libvirt.DomainState;
import org.ievirsh.libvirt.StopReason;
import org.ievirsh.template.DomainMetadata;

/**
 * VmPlanner compares what a student asks for one VM with what the blades
 * show, and says what to do: the calls to make, the status to show, when to
 * look again. Every decision about a VM is made here, from facts alone: no
 * I/O, no clock (the time is a fact), no randomness; every case is a row of
 * its table test. The few decisions that the gathering of facts itself
 * depends on ({@link #observe}, {@link #hold}, {@link #wantsToRun},
 * {@link #aboutToStart}) are here too, as pure functions it calls.
 */
public final class VmPlanner {
    /** RECHECK is how soon a VM in a transition (starting, stopping) is looked at again. */
    static final Duration RECHECK = Duration.ofSeconds(1);
    /** STARTS_PER_MINUTE is how often one VM may be started within a minute (a student toggling it). */
    static final int STARTS_PER_MINUTE = 5;

    private VmPlanner() {
    }

    /** The plan for one VM; after a failed call, the status says so (phase Error) and nothing more is tried. */
    public static VmPlan plan(VmFacts given) {
        VmFacts f = LifetimePlanner.asPlanned(given);
        VmPlan plan = LifetimePlanner.applied(f, MovePlanner.underWay(f).orElseGet(
                () -> MovePlanner.applied(f, planFor(f))));
        if (f.seen().failure().isEmpty() || plan.status().isEmpty()) {
            return plan;
        }
        return new VmPlan(List.of(), plan.status().map(s -> StatusBuilder.asFailure(s, f.seen().failure().get())),
                plan.definedXml(), Optional.empty());
    }

    private static VmPlan planFor(VmFacts f) {
        if (f.seen().observation() instanceof Observation.Stale stale) {
            return removingStale(f, stale);
        }
        if (f.seen().observation() instanceof Observation.Conflict conflict) {
            return status(f, Phase.Error, conflict.message(), null,
                    cond(Condition.DEFINED, false, Reasons.CONFLICT, conflict.message()));
        }
        Optional<ObservedDomain> domain = f.domain();
        boolean bladeUp = f.seen().observation() instanceof Observation.Found found && found.bladeUp();

        if (f.asked().desired() instanceof Desired.Absent) {
            return planRemoval(f, domain, bladeUp);
        }
        if (domain.isPresent() && !bladeUp) {
            String message = "blade " + domain.get().blade() + " is unreachable; the VM is left as it is until it"
                    + " answers again";
            return status(f, Phase.Unknown, message, null,
                    Condition.unknown(Condition.READY, Reasons.BLADE_UNREACHABLE, message));
        }
        if (f.asked().desired() instanceof Desired.Invalid invalid) {
            String problems = invalid.problems().stream().map(Problem::toString).collect(Collectors.joining("; "));
            Condition notValid = cond(Condition.VALID, false, Reasons.INVALID_SPEC, problems);
            if (domain.isPresent() && f.asked().lifetime().stage(f.now()) == VmFacts.Lifetime.Stage.EXPIRED) {
                // The semester holds whatever the file says: a broken file does not keep a VM past its end.
                return domain.get().isActive() ? stopOnly(f, domain.get(), notValid)
                        : status(f, Phase.Stopped, problems, domain.get(), notValid);
            }
            String message = domain.isEmpty() ? problems : problems + (domain.get().isActive()
                    ? " (the VM runs on as it was until the file is fixed)"
                    : " (the VM is left as it was until the file is fixed)");
            return status(f, Phase.Invalid, message, null, notValid);
        }
        Desired.Valid valid = (Desired.Valid) f.asked().desired();
        if (!f.allowed().admission().admitted()) {
            return status(f, Phase.QuotaExceeded, f.allowed().admission().message(), null,
                    cond(Condition.ADMITTED, false, Reasons.QUOTA_EXCEEDED, f.allowed().admission().message()));
        }
        boolean active = domain.isPresent() && domain.get().isActive();
        boolean wants = wantsToRun(valid.vm().runStrategy(), domain.orElse(null), f.seen().history());
        Optional<VmPlan> disk = DiskPlanner.holds(f, domain, active, wants);
        if (disk.isPresent()) {
            return disk.get();
        }
        Optional<VmPlan> refused = ImagePlanner.imageRefused(f, domain, active, wants);
        if (refused.isPresent()) {
            return refused.get();
        }
        if (domain.isEmpty() && f.target().nameTakenBy().isPresent()) {
            String message = "the domain name " + f.target().domainName() + " is already used by " + f.target().nameTakenBy().get()
                    + "; an admin must rename or remove that domain";
            return status(f, Phase.Error, message, null, cond(Condition.DEFINED, false, Reasons.CONFLICT, message));
        }
        Optional<VmPlan> looking = ImagePlanner.inspectionHolds(f, domain, active, wants);
        if (looking.isPresent()) {
            return looking.get();
        }
        if (domain.isEmpty()) {
            return DiskPlanner.seededFirst(f, planCreation(f, valid));
        }
        return DiskPlanner.seededFirst(f, planExisting(f, valid, domain.get()));
    }

    /**
     * The definitions beside the kept domain go. Beside a running domain they
     * were left when the VM was started elsewhere; beside a shut-off one, a
     * move was cut short between its define and its undefine.
     */
    private static VmPlan removingStale(VmFacts f, Observation.Stale stale) {
        List<Action> undefine = new ArrayList<>();
        for (ObservedDomain d : stale.stale()) {
            if (d.isActive()) {
                undefine.add(new Action.Destroy(d.blade(), d.uuid()));  // a move's paused leftover
            }
            undefine.add(new Action.Undefine(d.blade(), d.uuid()));
        }
        String on = String.join(", ", stale.stale().stream().map(ObservedDomain::blade).toList());
        ObservedDomain kept = stale.live();
        VmStatus status;
        if (kept.isActive()) {
            String message = "removing the stale definition on " + on + ", left when the VM was started elsewhere";
            status = build(f, Phase.Running, message, kept.blade(), kept,
                    List.of(cond(Condition.READY, true, Reasons.RUNNING, "")));
        } else {
            String message = "ending a move that was cut short: removing its definition on " + on;
            status = build(f, Phase.Migrating, message, kept.blade(), kept,
                    List.of(cond(Condition.READY, false, Reasons.MIGRATING, message)));
        }
        return new VmPlan(undefine, Optional.of(status), Optional.empty(), Optional.of(RECHECK));
    }

    private static VmPlan planCreation(VmFacts f, Desired.Valid valid) {
        if (f.target().placement().blade().isEmpty()) {
            boolean waiting = f.target().placement().waiting();
            Condition scheduled = cond(Condition.SCHEDULED, false, waiting ? Reasons.WAITING_FOR_BLADE
                    : Reasons.UNSCHEDULABLE, f.target().placement().reason());
            // A VM held for the blade it was last on keeps that blade in its status: the status is where the next
            // pass (and the next leader) learns it, and without it the VM would be made elsewhere.
            String last = waiting ? f.target().blades().lastBlade().filter(b -> f.target().blades().unreachable().contains(b))
                    .orElse(null) : null;
            return new VmPlan(List.of(), Optional.of(build(f, waiting ? Phase.Pending : Phase.Unschedulable,
                    f.target().placement().reason(), last, null, List.of(scheduled))), Optional.empty(), Optional.empty());
        }
        String blade = f.target().placement().blade().get();
        List<Action> actions = new ArrayList<>();
        actions.add(new Action.Define(blade, f.target().rendered().uuid(), f.target().rendered().xml()));
        boolean run = wantsToRun(valid.vm().runStrategy(), null, f.seen().history()) && f.allowed().admission().mayRun();
        if (run) {
            actions.add(new Action.Start(blade, f.target().rendered().uuid(), false));
        }
        String message = run ? "defining and starting on " + blade : "defining on " + blade;
        if (f.seen().observation() instanceof Observation.Stranded stranded) {
            message = "blade " + stranded.domain().blade() + " has been unreachable for " + seconds(stranded.downFor())
                    + "; " + message + " (bladeDown: restartElsewhere; the lock manager refuses if its old QEMU"
                    + " still runs)";
        }
        return new VmPlan(actions, Optional.of(build(f, run ? Phase.Starting : Phase.Pending, message, blade, null,
                List.of(cond(Condition.DEFINED, false, Reasons.NOT_DEFINED, "being defined on " + blade)))),
                Optional.of(f.target().rendered()), Optional.of(RECHECK));
    }

    private static VmPlan planExisting(VmFacts f, Desired.Valid valid, ObservedDomain d) {
        List<Action> actions = new ArrayList<>();
        DomainMetadata config = d.config();
        boolean redefine = d.drifted() || !config.renderHash().equals(f.target().rendered().renderHash())
                || !config.description().equals(f.target().rendered().metadata().description());
        if (redefine) {
            actions.add(new Action.Define(d.blade(), d.uuid(), f.target().rendered().xml()));
        }
        boolean restartRequired = d.isActive() && d.liveRenderHash().isPresent()
                && !d.liveRenderHash().get().equals(f.target().rendered().renderHash());
        Condition restart = restartRequired
                ? cond(Condition.RESTART_REQUIRED, true, Reasons.DEFINITION_CHANGED,
                        "the definition changed while the VM runs; it applies at the next boot"
                                + " (ie-virsh destroy, then start)")
                : cond(Condition.RESTART_REQUIRED, false, Reasons.UP_TO_DATE, "");
        boolean wants = wantsToRun(valid.vm().runStrategy(), d, f.seen().history());

        if (d.isActive()) {
            if (d.state() == DomainState.SHUTDOWN) {
                return withDomain(f, actions, Phase.Stopping, "the guest is shutting down", d, restart,
                        cond(Condition.READY, false, Reasons.STOPPING, "shutting down"), Optional.of(RECHECK));
            }
            if (wants) {
                String message = d.state() == DomainState.PAUSED ? "running (paused by an admin)" : "running";
                return withDomain(f, actions, Phase.Running, message, d, restart,
                        cond(Condition.READY, true, Reasons.RUNNING, ""), Optional.empty());
            }
            return stop(f, actions, d, restart);
        }

        // Shut off.
        if (!wants) {
            boolean poweredOff = valid.vm().runStrategy() == RunStrategy.RerunOnFailure;
            String message = poweredOff ? "the guest powered itself off; RerunOnFailure leaves it off"
                    + " (ie-virsh start " + f.vm() + " to start it)" : "stopped (runStrategy: Halted)";
            return withDomain(f, actions, Phase.Stopped, message, d, restart,
                    cond(Condition.READY, false, poweredOff ? Reasons.GUEST_POWERED_OFF : Reasons.HALTED, message),
                    Optional.empty());
        }
        if (!f.allowed().admission().mayRun()) {
            return withDomain(f, actions, Phase.Stopped, f.allowed().admission().message(), d, restart,
                    cond(Condition.READY, false, Reasons.RUNNING_QUOTA_EXCEEDED, f.allowed().admission().message()),
                    Optional.empty());
        }
        VmHistory.LastStop stop = f.seen().history().effectiveStop(d);
        boolean afterFailure = !stop.ours() && stop.reason() != StopReason.UNKNOWN;
        if (afterFailure && f.seen().history().restarts() > 0 && f.seen().history().lastRestartAt() != null) {
            Instant next = f.seen().history().lastRestartAt().plus(VmHistory.restartDelay(f.seen().history().restarts()));
            if (f.now().isBefore(next)) {
                Duration wait = Duration.between(f.now(), next);
                String message = "it stopped by itself " + (f.seen().history().restarts() + 1) + " times in a row ("
                        + describe(stop.reason()) + "); next start in " + seconds(wait);
                return withDomain(f, actions, Phase.CrashLoopBackOff, message, d, restart,
                        cond(Condition.READY, false, Reasons.CRASH_LOOP_BACK_OFF, message), Optional.of(wait));
            }
        }
        Optional<Instant> allowed = f.seen().history().nextStartAllowed(f.now(), STARTS_PER_MINUTE);
        if (allowed.isPresent()) {
            Duration wait = Duration.between(f.now(), allowed.get());
            String message = "started " + STARTS_PER_MINUTE + " times within a minute; the next start in "
                    + seconds(wait);
            return withDomain(f, actions, Phase.Stopped, message, d, restart,
                    cond(Condition.READY, false, Reasons.TOO_MANY_STARTS, message), Optional.of(wait));
        }
        actions.add(new Action.Start(d.blade(), d.uuid(), afterFailure));
        String message = afterFailure ? "starting again after it stopped (" + describe(stop.reason()) + ")"
                : "starting";
        return withDomain(f, actions, Phase.Starting, message, d, cond(Condition.RESTART_REQUIRED, false,
                Reasons.UP_TO_DATE, ""), cond(Condition.READY, false, Reasons.STARTING, message),
                Optional.of(RECHECK));
    }

    /** A running VM that is no longer wanted: ACPI first, forced off after the grace period. */
    static VmPlan stop(VmFacts f, List<Action> actions, ObservedDomain d, Condition other) {
        if (f.seen().history().stopRequestedAt() == null) {
            actions.add(new Action.Shutdown(d.blade(), d.uuid()));
            return withDomain(f, actions, Phase.Stopping, "asked the guest to shut down; forced off after "
                    + seconds(f.asked().stopGracePeriod()), d, other,
                    cond(Condition.READY, false, Reasons.STOPPING, "shutting down"), Optional.of(RECHECK));
        }
        Instant deadline = f.seen().history().stopRequestedAt().plus(f.asked().stopGracePeriod());
        if (!f.now().isBefore(deadline)) {
            actions.add(new Action.Destroy(d.blade(), d.uuid()));
            return withDomain(f, actions, Phase.Stopping, "the guest did not shut down within "
                    + seconds(f.asked().stopGracePeriod()) + "; forcing it off", d, other,
                    cond(Condition.READY, false, Reasons.STOPPING, "forced off"), Optional.of(RECHECK));
        }
        Duration left = Duration.between(f.now(), deadline);
        return withDomain(f, actions, Phase.Stopping, "waiting for the guest to shut down; forced off in "
                + seconds(left), d, other, cond(Condition.READY, false, Reasons.STOPPING, "shutting down"),
                Optional.of(left.compareTo(RECHECK) < 0 ? left : RECHECK));
    }

    /** Stopping a VM whose image is refused: no definition is touched (there is none to render). */
    static VmPlan stopOnly(VmFacts f, ObservedDomain d, Condition imageReady) {
        VmPlan stopping = stop(f, new ArrayList<>(), d, imageReady);
        return new VmPlan(stopping.actions(), stopping.status(), Optional.empty(), stopping.requeueAfter());
    }

    private static VmPlan planRemoval(VmFacts f, Optional<ObservedDomain> domain, boolean bladeUp) {
        if (domain.isEmpty() || !f.seen().directoryReadable()) {
            // Without the directory we cannot tell a removed file from an unmounted home: keep everything.
            return new VmPlan(List.of(), Optional.empty(), Optional.empty(), Optional.empty());
        }
        ObservedDomain d = domain.get();
        Condition removed = cond(Condition.VALID, false, Reasons.FILE_REMOVED, "the file was removed");
        if (!bladeUp) {
            return status(f, Phase.Terminating, "the file was removed; blade " + d.blade()
                    + " is unreachable, the VM is removed when it answers", d, removed);
        }
        if (f.allowed().deletionBlocked().isPresent()) {
            VmPlan held = status(f, Phase.Terminating, "the file was removed, but removals are on hold: "
                    + f.allowed().deletionBlocked().get(), d, removed);
            return new VmPlan(List.of(), held.status(), Optional.empty(), Optional.of(f.allowed().deletionRetry()));
        }
        List<Action> actions = new ArrayList<>();
        String message;
        Optional<Duration> again = Optional.of(RECHECK);
        if (!d.isActive()) {
            actions.add(new Action.Undefine(d.blade(), d.uuid()));
            message = "the file was removed; removing the VM (the image stays)";
        } else if (f.seen().history().stopRequestedAt() == null) {
            actions.add(new Action.Shutdown(d.blade(), d.uuid()));
            message = "the file was removed; shutting the VM down, then removing it (the image stays)";
        } else {
            Instant deadline = f.seen().history().stopRequestedAt().plus(f.asked().stopGracePeriod());
            if (!f.now().isBefore(deadline)) {
                actions.add(new Action.Destroy(d.blade(), d.uuid()));
                message = "the file was removed; forcing the VM off, then removing it (the image stays)";
            } else {
                Duration left = Duration.between(f.now(), deadline);
                again = Optional.of(left.compareTo(RECHECK) < 0 ? left : RECHECK);
                message = "the file was removed; waiting for the guest to shut down (forced off in "
                        + seconds(left) + ")";
            }
        }
        return new VmPlan(actions, Optional.of(build(f, Phase.Terminating, message, d.blade(), d, List.of(removed))),
                Optional.empty(), again);
    }

    /**
     * True when the run strategy wants the VM running now. RerunOnFailure does
     * not when the guest powered itself off; it does after a crash, after a
     * forced stop from outside, after a stop we asked for, and before its
     * first start.
     */
    public static boolean wantsToRun(RunStrategy strategy, ObservedDomain domain, VmHistory history) {
        switch (strategy) {
            case Always:
                return true;
            case Halted:
                return false;
            default:
                if (domain == null || domain.isActive()) {
                    return true;
                }
                VmHistory.LastStop stop = history.effectiveStop(domain);
                return stop.ours() || stop.reason() != StopReason.SHUTDOWN;
        }
    }

    /** True when the VM is off (or has no domain) and its run strategy wants it running: it is about to start. */
    public static boolean aboutToStart(RunStrategy strategy, ObservedDomain domain, VmHistory history) {
        return (domain == null || !domain.isActive()) && wantsToRun(strategy, domain, history);
    }
}
