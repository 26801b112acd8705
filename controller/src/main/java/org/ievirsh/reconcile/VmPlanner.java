package org.ievirsh.reconcile;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;
import org.ievirsh.api.Problem;
import org.ievirsh.api.v1.Quantities;
import org.ievirsh.api.v1.RunStrategy;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.image.Inspection;
import org.ievirsh.libvirt.DomainState;
import org.ievirsh.libvirt.StopReason;
import org.ievirsh.status.Condition;
import org.ievirsh.status.Phase;
import org.ievirsh.status.Reasons;
import org.ievirsh.status.VmStatus;
import org.ievirsh.template.DomainMetadata;

/**
 * VmPlanner compares what a student asks for one VM with what the blades
 * show, and says what to do. It is a pure function: no I/O, no clock, no
 * randomness; every case is a row in its table tests.
 */
public final class VmPlanner {
    /** RECHECK is how soon a VM in a transition (starting, stopping) is looked at again. */
    static final Duration RECHECK = Duration.ofSeconds(1);

    private VmPlanner() {
    }

    public static VmPlan plan(VmFacts f) {
        if (f.observation() instanceof Observation.Conflict conflict) {
            return status(f, Phase.Error, conflict.message(), List.of(), null,
                    cond(Condition.DEFINED, false, Reasons.CONFLICT, conflict.message()));
        }
        Optional<ObservedDomain> domain = f.observation() instanceof Observation.Found found
                ? Optional.of(found.domain()) : Optional.empty();
        boolean bladeUp = f.observation() instanceof Observation.Found found && found.bladeUp();

        if (f.desired() instanceof Desired.Absent) {
            return planRemoval(f, domain, bladeUp);
        }
        if (domain.isPresent() && !bladeUp) {
            String message = "blade " + domain.get().blade() + " is unreachable; the VM is left as it is until it"
                    + " answers again";
            return status(f, Phase.Unknown, message, List.of(), null,
                    Condition.unknown(Condition.READY, Reasons.BLADE_UNREACHABLE, message));
        }
        if (f.desired() instanceof Desired.Invalid invalid) {
            String problems = invalid.problems().stream().map(Problem::toString).collect(Collectors.joining("; "));
            String message = domain.isPresent()
                    ? problems + " (the existing VM is left as it is until the file is fixed)" : problems;
            return status(f, Phase.Invalid, message, List.of(), null,
                    cond(Condition.VALID, false, Reasons.INVALID_SPEC, problems));
        }
        Desired.Valid valid = (Desired.Valid) f.desired();
        if (!f.admission().admitted()) {
            return status(f, Phase.QuotaExceeded, f.admission().message(), List.of(), null,
                    cond(Condition.ADMITTED, false, Reasons.QUOTA_EXCEEDED, f.admission().message()));
        }
        if (!f.image().accepted()) {
            return imageRejected(f, domain, f.image().reason(), f.image().message());
        }
        Inspection inspection = f.inspection();
        if (inspection != null && inspection.blocksStart()) {
            boolean active = domain.isPresent() && domain.get().isActive();
            ObservedDomain d = domain.orElse(null);
            String message = inspection.message();
            switch (inspection.state()) {
                case INSECURE:
                    return imageRejected(f, domain, Reasons.INSECURE_IMAGE, message);
                case FAILED:
                    if (!active) {
                        VmPlan waiting = status(f, Phase.Pending, message, List.of(), d,
                                Condition.unknown(Condition.IMAGE_READY, Reasons.INSPECTION_FAILED, message));
                        return new VmPlan(List.of(), waiting.status(), Optional.empty(),
                                Optional.ofNullable(inspection.retryAfter()));
                    }
                    break;
                default:
                    if (!active) {
                        return status(f, Phase.Pending, message, List.of(), d,
                                Condition.unknown(Condition.IMAGE_READY, Reasons.INSPECTING, message));
                    }
                    break;
            }
        }
        if (domain.isEmpty()) {
            return planCreation(f, valid);
        }
        return planExisting(f, valid, domain.get());
    }

    /** An image that must not start; a VM that runs keeps the image it opened. */
    private static VmPlan imageRejected(VmFacts f, Optional<ObservedDomain> domain, String reason, String message) {
        String shown = domain.isPresent() && domain.get().isActive()
                ? message + " (the running VM keeps the image it opened; it will not start again until this is fixed)"
                : message;
        return status(f, Phase.ImageRejected, shown, List.of(), null,
                cond(Condition.IMAGE_READY, false, reason, message));
    }

    private static VmPlan planCreation(VmFacts f, Desired.Valid valid) {
        if (f.placement().blade().isEmpty()) {
            boolean waiting = f.placement().waiting();
            return status(f, waiting ? Phase.Pending : Phase.Unschedulable, f.placement().reason(), List.of(), null,
                    cond(Condition.SCHEDULED, false, waiting ? Reasons.WAITING_FOR_BLADE : Reasons.UNSCHEDULABLE,
                            f.placement().reason()));
        }
        String blade = f.placement().blade().get();
        List<Action> actions = new ArrayList<>();
        actions.add(new Action.Define(blade, f.rendered().uuid(), f.rendered().xml()));
        boolean run = wantsToRun(valid.vm().runStrategy(), null, f.history()) && f.admission().mayRun();
        if (run) {
            actions.add(new Action.Start(blade, f.rendered().uuid(), false));
        }
        return new VmPlan(actions, Optional.of(build(f, run ? Phase.Starting : Phase.Pending,
                run ? "defining and starting on " + blade : "defining on " + blade, blade, null,
                List.of(cond(Condition.DEFINED, false, Reasons.NOT_DEFINED, "being defined on " + blade)))),
                Optional.of(f.rendered()), Optional.of(RECHECK));
    }

    private static VmPlan planExisting(VmFacts f, Desired.Valid valid, ObservedDomain d) {
        List<Action> actions = new ArrayList<>();
        DomainMetadata config = d.config();
        boolean redefine = d.drifted() || !config.renderHash().equals(f.rendered().renderHash())
                || !config.description().equals(f.rendered().metadata().description());
        if (redefine) {
            actions.add(new Action.Define(d.blade(), d.uuid(), f.rendered().xml()));
        }
        boolean restartRequired = d.isActive() && d.liveRenderHash().isPresent()
                && !d.liveRenderHash().get().equals(f.rendered().renderHash());
        Condition restart = restartRequired
                ? cond(Condition.RESTART_REQUIRED, true, Reasons.DEFINITION_CHANGED,
                        "the definition changed while the VM runs; it applies at the next boot"
                                + " (ie-virsh destroy, then start)")
                : cond(Condition.RESTART_REQUIRED, false, Reasons.UP_TO_DATE, "");
        boolean wants = wantsToRun(valid.vm().runStrategy(), d, f.history());
        boolean mayRun = f.admission().mayRun();

        if (d.isActive()) {
            if (d.state() == DomainState.SHUTDOWN) {
                return plan(f, actions, Phase.Stopping, "the guest is shutting down", d, restart,
                        cond(Condition.READY, false, Reasons.STOPPING, "shutting down"), Optional.of(RECHECK));
            }
            if (wants) {
                String message = d.state() == DomainState.PAUSED ? "running (paused by an admin)" : "running";
                return plan(f, actions, Phase.Running, message, d, restart,
                        cond(Condition.READY, true, Reasons.RUNNING, ""), Optional.empty());
            }
            // Halted (or no longer wanted): ACPI first, forced off after the grace period.
            if (f.history().stopRequestedAt() == null) {
                actions.add(new Action.Shutdown(d.blade(), d.uuid()));
                return plan(f, actions, Phase.Stopping, "asked the guest to shut down; forced off after "
                        + seconds(f.stopGracePeriod()), d, restart,
                        cond(Condition.READY, false, Reasons.STOPPING, "shutting down"), Optional.of(RECHECK));
            }
            Instant deadline = f.history().stopRequestedAt().plus(f.stopGracePeriod());
            if (!f.now().isBefore(deadline)) {
                actions.add(new Action.Destroy(d.blade(), d.uuid()));
                return plan(f, actions, Phase.Stopping, "the guest did not shut down within "
                        + seconds(f.stopGracePeriod()) + "; forcing it off", d, restart,
                        cond(Condition.READY, false, Reasons.STOPPING, "forced off"), Optional.of(RECHECK));
            }
            Duration left = Duration.between(f.now(), deadline);
            return plan(f, actions, Phase.Stopping, "waiting for the guest to shut down; forced off in "
                    + seconds(left), d, restart, cond(Condition.READY, false, Reasons.STOPPING, "shutting down"),
                    Optional.of(left.compareTo(RECHECK) < 0 ? left : RECHECK));
        }

        // Shut off.
        if (!wants) {
            boolean poweredOff = valid.vm().runStrategy() == RunStrategy.RerunOnFailure;
            String message = poweredOff ? "the guest powered itself off; RerunOnFailure leaves it off"
                    + " (ie-virsh start " + f.vm() + " to start it)" : "stopped (runStrategy: Halted)";
            return plan(f, actions, Phase.Stopped, message, d, restart,
                    cond(Condition.READY, false, poweredOff ? Reasons.GUEST_POWERED_OFF : Reasons.HALTED, message),
                    Optional.empty());
        }
        if (!mayRun) {
            return plan(f, actions, Phase.Stopped, f.admission().message(), d, restart,
                    cond(Condition.READY, false, Reasons.RUNNING_QUOTA_EXCEEDED, f.admission().message()),
                    Optional.empty());
        }
        VmHistory.LastStop stop = f.history().effectiveStop(d);
        boolean afterFailure = !stop.ours() && stop.reason() != StopReason.UNKNOWN;
        if (afterFailure && f.history().restarts() > 0 && f.history().lastRestartAt() != null) {
            Instant next = f.history().lastRestartAt().plus(VmHistory.restartDelay(f.history().restarts()));
            if (f.now().isBefore(next)) {
                Duration wait = Duration.between(f.now(), next);
                String message = "it stopped by itself " + (f.history().restarts() + 1) + " times in a row ("
                        + describe(stop.reason()) + "); next start in " + seconds(wait);
                return plan(f, actions, Phase.CrashLoopBackOff, message, d, restart,
                        cond(Condition.READY, false, Reasons.CRASH_LOOP_BACK_OFF, message), Optional.of(wait));
            }
        }
        actions.add(new Action.Start(d.blade(), d.uuid(), afterFailure));
        String message = afterFailure ? "starting again after it stopped (" + describe(stop.reason()) + ")"
                : "starting";
        return plan(f, actions, Phase.Starting, message, d, cond(Condition.RESTART_REQUIRED, false,
                Reasons.UP_TO_DATE, ""), cond(Condition.READY, false, Reasons.STARTING, message),
                Optional.of(RECHECK));
    }

    private static VmPlan planRemoval(VmFacts f, Optional<ObservedDomain> domain, boolean bladeUp) {
        if (domain.isEmpty()) {
            return new VmPlan(List.of(), Optional.empty(), Optional.empty(), Optional.empty());
        }
        ObservedDomain d = domain.get();
        if (!f.directoryReadable()) {
            // Without the directory we cannot tell a removed file from an unmounted home: keep everything.
            return new VmPlan(List.of(), Optional.empty(), Optional.empty(), Optional.empty());
        }
        Condition removed = cond(Condition.VALID, false, Reasons.FILE_REMOVED, "the file was removed");
        if (!bladeUp) {
            return status(f, Phase.Terminating, "the file was removed; blade " + d.blade()
                    + " is unreachable, the VM is removed when it answers", List.of(), d, removed);
        }
        if (f.deletionBlocked().isPresent()) {
            return status(f, Phase.Terminating, "the file was removed, but removals are on hold: "
                    + f.deletionBlocked().get(), List.of(), d, removed);
        }
        List<Action> actions = new ArrayList<>();
        String message;
        Optional<Duration> again = Optional.of(RECHECK);
        if (!d.isActive()) {
            actions.add(new Action.Undefine(d.blade(), d.uuid()));
            message = "the file was removed; removing the VM (the image stays)";
        } else if (f.history().stopRequestedAt() == null) {
            actions.add(new Action.Shutdown(d.blade(), d.uuid()));
            message = "the file was removed; shutting the VM down, then removing it (the image stays)";
        } else {
            Instant deadline = f.history().stopRequestedAt().plus(f.stopGracePeriod());
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

    private static VmPlan plan(VmFacts f, List<Action> actions, Phase phase, String message, ObservedDomain d,
                               Condition restart, Condition ready, Optional<Duration> requeue) {
        boolean redefining = actions.stream().anyMatch(a -> a instanceof Action.Define);
        List<Condition> extra = List.of(
                cond(Condition.DEFINED, true, Reasons.DOMAIN_DEFINED, redefining ? "being redefined" : ""),
                ready, restart);
        return new VmPlan(List.copyOf(actions), Optional.of(build(f, phase, message, d.blade(), d, extra)),
                Optional.of(f.rendered()), redefining && requeue.isEmpty() ? Optional.of(RECHECK) : requeue);
    }

    private static VmPlan status(VmFacts f, Phase phase, String message, List<Action> actions, ObservedDomain d,
                                 Condition condition) {
        String blade = d != null ? d.blade() : f.observation() instanceof Observation.Found found
                ? found.domain().blade() : null;
        ObservedDomain observed = d != null ? d : f.observation() instanceof Observation.Found found
                ? found.domain() : null;
        return new VmPlan(actions, Optional.of(build(f, phase, message, blade, observed, List.of(condition))),
                Optional.empty(), Optional.empty());
    }

    /** The full status: every condition type, the ones not decided here from what is known. */
    private static VmStatus build(VmFacts f, Phase phase, String message, String blade, ObservedDomain d,
                                  List<Condition> decided) {
        List<Condition> conditions = new ArrayList<>();
        boolean valid = f.desired() instanceof Desired.Valid;
        conditions.add(pick(decided, Condition.VALID, valid ? cond(Condition.VALID, true, Reasons.SPEC_VALID, "")
                : Condition.unknown(Condition.VALID, Reasons.NOT_EVALUATED, "")));
        conditions.add(pick(decided, Condition.ADMITTED, f.admission() == null
                ? Condition.unknown(Condition.ADMITTED, Reasons.NOT_EVALUATED, "")
                : f.admission().admitted() ? cond(Condition.ADMITTED, true, Reasons.WITHIN_QUOTA, f.admission().message())
                : cond(Condition.ADMITTED, false, Reasons.QUOTA_EXCEEDED, f.admission().message())));
        conditions.add(pick(decided, Condition.IMAGE_READY, f.image() == null
                ? Condition.unknown(Condition.IMAGE_READY, Reasons.NOT_EVALUATED, "")
                : f.image().accepted() && f.inspection() != null && f.inspection().state() != Inspection.State.CLEAN
                ? cond(Condition.IMAGE_READY, true, reason(f.inspection().state()), f.inspection().message())
                : cond(Condition.IMAGE_READY, f.image().accepted(), f.image().reason(), f.image().message())));
        conditions.add(pick(decided, Condition.SCHEDULED, blade != null
                ? cond(Condition.SCHEDULED, true, Reasons.PLACED, "on " + blade)
                : Condition.unknown(Condition.SCHEDULED, Reasons.NOT_EVALUATED, "")));
        conditions.add(pick(decided, Condition.DEFINED, d != null
                ? cond(Condition.DEFINED, true, Reasons.DOMAIN_DEFINED, "")
                : cond(Condition.DEFINED, false, Reasons.NOT_DEFINED, "")));
        conditions.add(pick(decided, Condition.READY, d != null && d.isActive()
                ? cond(Condition.READY, true, Reasons.RUNNING, "")
                : cond(Condition.READY, false, d != null ? Reasons.HALTED : Reasons.NOT_DEFINED, "")));
        conditions.add(pick(decided, Condition.RESTART_REQUIRED,
                cond(Condition.RESTART_REQUIRED, false, Reasons.UP_TO_DATE, "")));

        String specHash = f.desired() instanceof Desired.Valid v ? v.specHash()
                : f.desired() instanceof Desired.Invalid i ? i.specHash().orElse(null) : null;
        String uuid = d != null ? d.uuid() : f.rendered() != null ? f.rendered().uuid() : null;
        String mac = d != null && !d.config().macs().isEmpty() ? d.config().macs().get(0)
                : f.rendered() != null && !f.rendered().metadata().macs().isEmpty()
                ? f.rendered().metadata().macs().get(0) : null;
        Integer vcpus = f.rendered() != null ? Integer.valueOf(f.rendered().vcpus())
                : d != null ? Integer.valueOf(d.config().vcpus()) : null;
        Long memory = f.rendered() != null ? Long.valueOf(f.rendered().memoryBytes())
                : d != null ? Long.valueOf(d.config().memoryBytes()) : null;
        String template = f.desired() instanceof Desired.Valid v ? v.template() : null;
        String image = f.image() != null ? f.image().path() : null;
        return new VmStatus(f.vm(), f.owner(), phase, message, List.copyOf(conditions), blade,
                d != null ? d.name() : f.domainName(), uuid, mac, null, vcpus,
                memory == null || memory == 0 ? null : Quantities.format(memory), template, image, specHash, null);
    }

    private static String reason(Inspection.State state) {
        switch (state) {
            case INSECURE: return Reasons.INSECURE_IMAGE;
            case FAILED: return Reasons.INSPECTION_FAILED;
            case INSPECTING: return Reasons.INSPECTING;
            default: return Reasons.IMAGE_ACCEPTED;
        }
    }

    private static Condition pick(List<Condition> decided, String type, Condition fallback) {
        return decided.stream().filter(c -> c.type().equals(type)).findFirst().orElse(fallback);
    }

    static Condition cond(String type, boolean status, String reason, String message) {
        return Condition.of(type, status, reason, Objects.requireNonNullElse(message, ""));
    }

    private static String seconds(Duration d) {
        return Math.max(0, (d.toMillis() + 999) / 1000) + "s";
    }

    private static String describe(StopReason reason) {
        switch (reason) {
            case SHUTDOWN: return "the guest powered off";
            case DESTROYED: return "it was forced off from outside";
            case CRASHED: return "it crashed";
            case FAILED: return "QEMU failed";
            default: return "reason: " + reason.name().toLowerCase();
        }
    }
}
