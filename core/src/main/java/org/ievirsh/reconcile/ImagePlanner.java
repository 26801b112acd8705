package org.ievirsh.reconcile;

import static org.ievirsh.reconcile.StatusBuilder.cond;
import static org.ievirsh.reconcile.StatusBuilder.status;

import java.util.List;
import java.util.Optional;
import org.ievirsh.api.v1.Condition;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.Reasons;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.image.Inspection;

/**
 * ImagePlanner is the part of {@link VmPlanner} that decides what a VM's
 * image allows: its file (format, owner, header, another VM's disk) and what
 * is known of its inside (a look to make, under way, failed, or its
 * findings). Pure, like the rest of the planner.
 */
final class ImagePlanner {

    private ImagePlanner() {
    }

    /**
     * A VM's claim on the image file of identity {@code identity}: a VM with
     * a domain comes first, then the older file ({@code fileAge}: its birth
     * time, as the spec reader gives it), then the name.
     */
    record Claim(String vm, String identity, boolean hasDomain, long fileAge) {
    }

    /** The order in which claims on one image are served: the first keeps it. */
    static final java.util.Comparator<Claim> CLAIM_ORDER = java.util.Comparator.comparing((Claim c) -> !c.hasDomain())
            .thenComparingLong(Claim::fileAge).thenComparing(Claim::vm);

    /** For each VM whose image another VM claimed first: that VM. An image serves one VM. */
    static java.util.Map<String, String> sharedWith(List<Claim> claims) {
        java.util.Map<String, String> first = new java.util.HashMap<>();
        java.util.Map<String, String> inUseBy = new java.util.HashMap<>();
        claims.stream().sorted(CLAIM_ORDER).forEach(c -> {
            String other = first.putIfAbsent(c.identity(), c.vm());
            if (other != null) {
                inUseBy.put(c.vm(), other);
            }
        });
        return inUseBy;
    }

    /** Why the image file cannot serve: the reason (as the status and the metric name it) and the message. */
    record Refusal(String reason, String message) {
    }

    /** The refusal of the image file of {@code f}'s VM, if any: a bad file, or the disk of another VM. */
    static Optional<Refusal> refusal(VmFacts f) {
        if (f.allowed().image() == null) {
            return Optional.empty();  // no valid file, no image checked
        }
        if (!f.allowed().image().accepted()) {
            return Optional.of(new Refusal(f.allowed().image().reason(), f.allowed().image().message()));
        }
        if (f.allowed().imageInUseBy() != null) {
            return Optional.of(new Refusal(Reasons.IMAGE_IN_USE, ((Desired.Valid) f.asked().desired()).vm().image()
                    + " is already the disk of VM " + f.allowed().imageInUseBy() + "; each VM needs an image of its own"));
        }
        return Optional.empty();
    }

    /**
     * What is wrong with the image of {@code f}'s VM, for the admins'
     * {@code images_rejected} metric: the file's refusal, else what a look
     * inside found (insecure) or could not finish (failed). The one source of
     * these reasons beside the plan's own.
     */
    static Optional<String> problem(VmFacts f) {
        Optional<Refusal> refused = refusal(f);
        if (refused.isPresent()) {
            return refused.map(Refusal::reason);
        }
        Inspection inspection = f.allowed().inspection();
        if (inspection != null && inspection.state() == Inspection.State.INSECURE) {
            return Optional.of(Reasons.INSECURE_IMAGE);
        }
        if (inspection != null && inspection.state() == Inspection.State.FAILED) {
            return Optional.of(Reasons.INSPECTION_FAILED);
        }
        return Optional.empty();
    }

    /**
     * What the image file allows: nothing to say, or a refusal (a bad file, a
     * disk another VM uses). A running VM that is to stop is stopped whatever
     * its image.
     */
    static Optional<VmPlan> imageRefused(VmFacts f, Optional<ObservedDomain> domain, boolean active,
                                                 boolean wants) {
        return refusal(f).map(r -> active && !wants ? VmPlanner.stopOnly(f, domain.get(),
                cond(Condition.IMAGE_READY, false, r.reason(), r.message())) : imageRejected(f, domain, r.reason(),
                r.message()));
    }

    /**
     * What is known of the image's inside allows: nothing to say, a look to
     * make before the start, or a wait (a look under way, or one that failed)
     * or a refusal (it found the image insecure).
     */
    static Optional<VmPlan> inspectionHolds(VmFacts f, Optional<ObservedDomain> domain, boolean active,
                                                    boolean wants) {
        Inspection inspection = f.allowed().inspection();
        if (inspection == null || inspection.state() == Inspection.State.CLEAN || f.allowed().image().blank()) {
            return Optional.empty();  // nothing found; or a blank image, which holds nothing to find
        }
        ObservedDomain d = domain.orElse(null);
        boolean starting = VmPlanner.aboutToStart(((Desired.Valid) f.asked().desired()).vm().runStrategy(), d, f.seen().history());
        if (inspection.state() == Inspection.State.NONE) {
            if (!starting) {
                return Optional.empty();  // a running or halted VM's image is looked at before its next start
            }
            String looking = "looking inside " + ((Desired.Valid) f.asked().desired()).vm().image()
                    + " for Vagrant's insecure SSH key and password before it starts (this takes about 20 s)";
            VmPlan inspect = status(f, Phase.Pending, looking, d,
                    Condition.unknown(Condition.IMAGE_READY, Reasons.INSPECTING, looking));
            return Optional.of(new VmPlan(List.of(new Action.Inspect(f.allowed().image().version())), inspect.status(),
                    Optional.empty(), Optional.empty()));
        }
        if (!inspection.blocksStart()) {
            return Optional.empty();  // warn: what was found is said, and the VM runs
        }
        switch (inspection.state()) {
            case INSECURE:
                return Optional.of(active && !wants ? VmPlanner.stopOnly(f, d, cond(Condition.IMAGE_READY, false,
                        Reasons.INSECURE_IMAGE, inspection.message()))
                        : imageRejected(f, domain, Reasons.INSECURE_IMAGE, inspection.message()));
            case FAILED:
                if (active) {
                    return Optional.empty();
                }
                VmPlan waiting = status(f, Phase.Pending, inspection.message(), d,
                        Condition.unknown(Condition.IMAGE_READY, Reasons.INSPECTION_FAILED, inspection.message()));
                return Optional.of(new VmPlan(List.of(), waiting.status(), Optional.empty(),
                        Optional.ofNullable(inspection.retryAfter())));
            default:
                if (active) {
                    return Optional.empty();
                }
                return Optional.of(status(f, Phase.Pending, inspection.message(), d,
                        Condition.unknown(Condition.IMAGE_READY, Reasons.INSPECTING, inspection.message())));
        }
    }

    /** An image that must not start; a VM that runs keeps the image it opened. */
    private static VmPlan imageRejected(VmFacts f, Optional<ObservedDomain> domain, String reason, String message) {
        String shown = domain.isPresent() && domain.get().isActive()
                ? message + " (the running VM keeps the image it opened; it will not start again until this is fixed)"
                : message;
        return status(f, Phase.ImageRejected, shown, null, cond(Condition.IMAGE_READY, false, reason, message));
    }
}
