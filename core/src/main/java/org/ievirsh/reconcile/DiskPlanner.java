package org.ievirsh.reconcile;

import static org.ievirsh.reconcile.StatusBuilder.cond;
import static org.ievirsh.reconcile.StatusBuilder.status;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.ievirsh.api.v1.Condition;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.Quantities;
import org.ievirsh.api.v1.Reasons;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.image.BaseImages;
import org.ievirsh.image.Inspection;
import org.ievirsh.spec.BaseFit;

/**
 * DiskPlanner is the part of {@link VmPlanner} that decides what a VM's
 * base image allows (the README's "Base images"), before its image file's
 * own checks: a base that is missing, refused, insecure or not looked at
 * yet; one that changed since the VM's disk was made from it; the disk to
 * make from it (within the disk quota); a file at the disk's name that is no
 * overlay of it; and, once the VM may go on, its NoCloud seed to make again
 * first. Pure, like the rest of the planner.
 */
final class DiskPlanner {

    private DiskPlanner() {
    }

    /** What the base allows: nothing to say, or the plan (a refusal, a wait, the disk or a look to make). */
    static Optional<VmPlan> holds(VmFacts f, Optional<ObservedDomain> domain, boolean active, boolean wants) {
        Optional<DiskFacts.Base> found = f.allowed().disk().base();
        if (found.isEmpty()) {
            return Optional.empty();
        }
        DiskFacts.Base base = found.get();
        if (domain.isPresent() && base.changed()) {
            String message = "the base image " + base.name() + (base.entry().isEmpty() ? " is gone" : " changed")
                    + " since this VM's disk was made from it: the VM is not started again until the admin puts the"
                    + " same file back (a new version of a base is a new name)" + (active ? "; it runs on meanwhile" : "");
            Condition changed = cond(Condition.IMAGE_READY, false, Reasons.BASE_IMAGE_CHANGED, message);
            return Optional.of(active && !wants ? VmPlanner.stopOnly(f, domain.get(), changed)
                    : status(f, Phase.Error, message, domain.get(), changed));
        }
        if (base.entry().isEmpty() || !base.entry().get().ready()) {
            String message = base.entry().isEmpty() ? BaseFit.noSuchBase(base.name())
                    : BaseFit.refusedBase(base.name(), base.entry().get().rejected().get());
            return Optional.of(refused(f, domain, active, wants, Reasons.BASE_IMAGE_REJECTED, message));
        }
        BaseImages.Base entry = base.entry().get();
        Optional<VmPlan> look = looked(f, base, entry, domain, active, wants);
        if (look.isPresent()) {
            return look;
        }
        if (base.asked() && f.allowed().image().missing()) {
            return Optional.of(make(f, base, entry));
        }
        if (base.asked() && f.allowed().image().accepted() && !f.allowed().image().backing().equals(Optional.of(entry.path().toString()))) {
            String image = ((Desired.Valid) f.asked().desired()).vm().image();
            String message = image + " is there already and is not a disk made from the base image " + base.name()
                    + " (it is " + f.allowed().image().backing().map(b -> "an overlay of " + b).orElse("a standalone image")
                    + "): name another spec.image, or move it aside (ie-virsh reset " + f.vm() + ")";
            return Optional.of(refused(f, domain, active, wants, Reasons.NOT_AN_OVERLAY_OF_BASE, message));
        }
        return Optional.empty();
    }

    /** What is known of the base's inside allows: nothing to say, a look to make first, a wait, or a refusal. */
    private static Optional<VmPlan> looked(VmFacts f, DiskFacts.Base base, BaseImages.Base entry,
                                           Optional<ObservedDomain> domain, boolean active, boolean wants) {
        Inspection inspection = base.inspection();
        if (inspection == null || inspection.state() == Inspection.State.CLEAN || active) {
            return Optional.empty();  // off, clean, or a VM that runs: its base was fine when it started
        }
        if (inspection.state() == Inspection.State.INSECURE) {
            return inspection.enforced() ? Optional.of(refused(f, domain, false, wants, Reasons.INSECURE_IMAGE,
                    inspection.message())) : Optional.empty();
        }
        ObservedDomain d = domain.orElse(null);
        if (inspection.state() == Inspection.State.NONE) {
            String looking = "looking inside the base image " + base.name() + " before the first VM made from it"
                    + " starts (this takes about 20 s)";
            VmPlan waiting = status(f, Phase.Pending, looking, d,
                    Condition.unknown(Condition.IMAGE_READY, Reasons.INSPECTING, looking));
            return Optional.of(new VmPlan(List.of(new Action.InspectBase(base.name(), entry.path().toString(),
                    entry.version())), waiting.status(), Optional.empty(), Optional.empty()));
        }
        String reason = inspection.state() == Inspection.State.FAILED ? Reasons.INSPECTION_FAILED : Reasons.INSPECTING;
        VmPlan waiting = status(f, Phase.Pending, inspection.message(), d,
                Condition.unknown(Condition.IMAGE_READY, reason, inspection.message()));
        return Optional.of(new VmPlan(List.of(), waiting.status(), Optional.empty(),
                Optional.ofNullable(inspection.retryAfter())));
    }

    /** The disk to make from the base, if it fits its size and the student's disk quota. */
    private static VmPlan make(VmFacts f, DiskFacts.Base base, BaseImages.Base entry) {
        String image = ((Desired.Valid) f.asked().desired()).vm().image();
        long size = base.size().orElse(entry.virtualSize());
        if (size < entry.virtualSize()) {
            String message = BaseFit.diskTooSmall(base.name(), size, entry.virtualSize());
            return status(f, Phase.Invalid, message, null, cond(Condition.VALID, false, Reasons.INVALID_SPEC, message));
        }
        if (f.allowed().disk().limit() - f.allowed().disk().used() < size) {
            String message = "making " + image + " (" + Quantities.readable(size) + ") would exceed your disk quota of "
                    + Quantities.readable(f.allowed().disk().limit()) + ": " + Quantities.readable(f.allowed().disk().used())
                    + " are taken by your other disks made from bases and their snapshots";
            return status(f, Phase.QuotaExceeded, message, null,
                    cond(Condition.ADMITTED, false, Reasons.QUOTA_EXCEEDED, message));
        }
        String making = "making your disk " + image + " from the base image " + base.name();
        VmPlan plan = status(f, Phase.Pending, making, null,
                Condition.unknown(Condition.IMAGE_READY, Reasons.MAKING_DISK, making));
        List<Action> actions = new ArrayList<>(List.of(new Action.MakeOverlay(image, entry.path().toString(), size)));
        Optional<DiskFacts.Seed> seed = f.allowed().disk().seed();
        if (seed.isPresent() && !seed.get().current()) {
            actions.add(new Action.MakeSeed(seed.get().inputs()));  // made beside the disk: the first start waits less
        }
        return new VmPlan(actions, plan.status(), Optional.empty(), Optional.empty());
    }

    /** A refusal; a running VM that is to stop is stopped whatever its disk. */
    private static VmPlan refused(VmFacts f, Optional<ObservedDomain> domain, boolean active, boolean wants,
                                  String reason, String message) {
        if (active && !wants) {
            return VmPlanner.stopOnly(f, domain.get(), cond(Condition.IMAGE_READY, false, reason, message));
        }
        String shown = active ? message + " (the running VM keeps the disk it opened; it will not start again until"
                + " this is fixed)" : message;
        return status(f, Phase.ImageRejected, shown, null, cond(Condition.IMAGE_READY, false, reason, message));
    }

    /**
     * The plan with the VM's NoCloud seed made again first, when the one
     * there was not made from what it would be made from now and the plan
     * goes on with the VM (a running VM sees it at its next boot).
     */
    static VmPlan seededFirst(VmFacts f, VmPlan plan) {
        Optional<DiskFacts.Seed> seed = f.allowed().disk().seed();
        if (seed.isEmpty() || seed.get().current() || f.target().rendered() == null || plan.status().isPresent()
                && (plan.status().get().phase() == Phase.ImageRejected || plan.status().get().phase() == Phase.Invalid)) {
            return plan;
        }
        List<Action> actions = new ArrayList<>();
        actions.add(new Action.MakeSeed(seed.get().inputs()));
        actions.addAll(plan.actions());
        return new VmPlan(actions, plan.status(), plan.definedXml(), plan.requeueAfter());
    }
}
