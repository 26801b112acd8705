package org.ievirsh.reconcile;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.ievirsh.api.v1.Condition;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.Quantities;
import org.ievirsh.api.v1.Reasons;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.image.Inspection;
import org.ievirsh.libvirt.StopReason;

/**
 * StatusBuilder turns the planner's verdict on one VM (a phase, a message,
 * the conditions it decided) into the whole status a student reads: every
 * condition type, in order, the undecided ones filled in from the facts, and
 * the VM's figures. Pure, like the planner it serves.
 */
final class StatusBuilder {

    private StatusBuilder() {
    }

    /** The full status: every condition type, the ones not decided from what is known. */
    static VmStatus build(VmFacts f, Phase phase, String message, String blade, ObservedDomain d,
                          List<Condition> decided) {
        List<Condition> conditions = new ArrayList<>();
        boolean valid = f.asked().desired() instanceof Desired.Valid;
        conditions.add(pick(decided, Condition.VALID, valid ? cond(Condition.VALID, true, Reasons.SPEC_VALID, "")
                : Condition.unknown(Condition.VALID, Reasons.NOT_EVALUATED, "")));
        conditions.add(pick(decided, Condition.ADMITTED, f.allowed().admission() == null
                ? Condition.unknown(Condition.ADMITTED, Reasons.NOT_EVALUATED, "")
                : f.allowed().admission().admitted() ? cond(Condition.ADMITTED, true, Reasons.WITHIN_QUOTA, f.allowed().admission().message())
                : cond(Condition.ADMITTED, false, Reasons.QUOTA_EXCEEDED, f.allowed().admission().message())));
        conditions.add(pick(decided, Condition.IMAGE_READY, imageReady(f)));
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

        String specHash = f.asked().desired() instanceof Desired.Valid v ? v.specHash()
                : f.asked().desired() instanceof Desired.Invalid i ? i.specHash().orElse(null) : null;
        String uuid = d != null ? d.uuid() : f.target().rendered() != null ? f.target().rendered().uuid() : null;
        String mac = d != null && !d.config().macs().isEmpty() ? d.config().macs().get(0)
                : f.target().rendered() != null && !f.target().rendered().metadata().macs().isEmpty()
                ? f.target().rendered().metadata().macs().get(0) : null;
        Integer vcpus = f.target().rendered() != null ? Integer.valueOf(f.target().rendered().vcpus())
                : d != null ? Integer.valueOf(d.config().vcpus()) : null;
        Long memory = f.target().rendered() != null ? Long.valueOf(f.target().rendered().memoryBytes())
                : d != null ? Long.valueOf(d.config().memoryBytes()) : null;
        String template = f.asked().desired() instanceof Desired.Valid v ? v.template() : null;
        String image = f.allowed().image() != null ? f.allowed().image().path() : null;
        // Addresses belong to a running guest: none while it is stopped, even if a lease still holds.
        List<VmStatus.Address> addresses = d != null && d.isActive() && !f.seen().addresses().isEmpty() ? f.seen().addresses() : null;
        String expires = f.asked().lifetime().end().map(StatusBuilder::rfc3339).orElse(null);
        String firstBoot = f.allowed().disk().seed().isPresent() ? "cloud-init" : null;
        return new VmStatus(f.vm(), f.owner(), phase, message, List.copyOf(conditions), blade,
                d != null ? d.name() : f.target().domainName(), uuid, mac, addresses == null ? null : addresses.get(0).ip(),
                addresses, vcpus, memory == null || memory == 0 ? null : Quantities.format(memory), template, image,
                expires, specHash, null, firstBoot,
                f.allowed().admission() == null ? null : f.allowed().admission().course().orElse(null));
    }

    /** LAST_RFC3339 is the latest time RFC 3339 can write (four-digit years). */
    private static final java.time.Instant LAST_RFC3339 = java.time.Instant.parse("9999-12-31T23:59:59Z");

    /**
     * {@code at} as RFC 3339 text; a time past the year 9999 (a file's
     * {@code expires: 9999-12-31} ends at midnight after it) as the last
     * second RFC 3339 can write, one that no reader tells from "never".
     */
    static String rfc3339(java.time.Instant at) {
        return (at.isAfter(LAST_RFC3339) ? LAST_RFC3339 : at).toString();
    }

    private static Condition imageReady(VmFacts f) {
        if (f.allowed().image() == null) {
            return Condition.unknown(Condition.IMAGE_READY, Reasons.NOT_EVALUATED, "");
        }
        Inspection inspection = f.allowed().inspection();
        if (f.allowed().image().accepted() && inspection != null && inspection.state() != Inspection.State.CLEAN
                && inspection.state() != Inspection.State.NONE) {
            return cond(Condition.IMAGE_READY, true, reason(inspection.state()), inspection.message());
        }
        return cond(Condition.IMAGE_READY, f.allowed().image().accepted(), f.allowed().image().reason(), f.allowed().image().message());
    }

    /** A plan for a VM that has its domain: the actions, its status with the conditions decided, when to look again. */
    static VmPlan withDomain(VmFacts f, List<Action> actions, Phase phase, String message, ObservedDomain d,
                             Condition other, Condition ready, Optional<Duration> requeue) {
        boolean redefining = actions.stream().anyMatch(a -> a instanceof Action.Define);
        List<Condition> extra = List.of(
                cond(Condition.DEFINED, true, Reasons.DOMAIN_DEFINED, redefining ? "being redefined" : ""),
                ready, other);
        return new VmPlan(List.copyOf(actions), Optional.of(build(f, phase, message, d.blade(), d, extra)),
                Optional.ofNullable(f.target().rendered()),
                redefining && requeue.isEmpty() ? Optional.of(VmPlanner.RECHECK) : requeue);
    }

    /** A plan that only shows a status: the phase, the message and the one condition decided. */
    static VmPlan status(VmFacts f, Phase phase, String message, ObservedDomain d, Condition condition) {
        ObservedDomain observed = d != null ? d : f.domain().orElse(null);
        VmStatus status = build(f, phase, message, observed != null ? observed.blade() : null, observed,
                List.of(condition));
        return new VmPlan(List.of(), Optional.of(status), Optional.empty(), Optional.empty());
    }

    /** The status with the phase and message of a failed call, its Ready condition saying so. */
    static VmStatus asFailure(VmStatus status, VmFacts.Failure failure) {
        List<Condition> conditions = new ArrayList<>();
        for (Condition c : status.conditions()) {
            conditions.add(c.type().equals(Condition.READY)
                    ? Condition.of(c.type(), false, failure.reason(), failure.message()) : c);
        }
        return status.with(Phase.Error, failure.message()
                + (failure.retry() ? " (retrying with back-off)" : " (tried again when something changes)"),
                List.copyOf(conditions));
    }

    static String reason(Inspection.State state) {
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

    static String seconds(Duration d) {
        return Math.max(0, (d.toMillis() + 999) / 1000) + "s";
    }

    static String describe(StopReason reason) {
        switch (reason) {
            case SHUTDOWN: return "the guest powered off";
            case DESTROYED: return "it was forced off from outside";
            case CRASHED: return "it crashed";
            case FAILED: return "QEMU failed";
            default: return "reason: " + reason.name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
