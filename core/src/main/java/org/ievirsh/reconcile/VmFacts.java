package org.ievirsh.reconcile;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.image.ImageVerdict;
import org.ievirsh.image.Inspection;
import org.ievirsh.quota.Admission;
import org.ievirsh.template.RenderedDomain;

/**
 * VmFacts is everything the planner knows about one VM at one moment, as
 * gathered, in groups: what the file asks ({@link Asked}), what the blades
 * and the guest show ({@link Seen}), what the quota, the image and the
 * deletion guard allow ({@link Allowed}), and the domain it would have and
 * where it would go ({@link Target}). Fields that were not evaluated (no
 * valid file: no admission, image or rendering) are null. Nothing here is a
 * decision: the planner makes them all. A new fact goes into its group:
 * its record, its equals and hashCode, and the gatherer that fills it.
 *
 * <p>Every group writes its equals and hashCode out: a resync compares every
 * VM's facts with the last clean pass, and the generated record methods
 * (method handles per component) were a quarter of an idle pass.
 * VmFactsEqualityTest checks that every component of every group counts.
 */
public record VmFacts(String vm, VmStatus.Owner owner, Asked asked, Seen seen, Allowed allowed, Target target,
                      Instant now) {

    /**
     * What the file asks.
     *
     * @param lifetime        when the VM ends: its file's spec.expires and the admin's date for its owner
     * @param stopGracePeriod how long a guest has to shut down before it is forced off
     */
    public record Asked(Desired desired, Lifetime lifetime, Duration stopGracePeriod) {
        @Override
        public boolean equals(Object o) {
            return this == o || o instanceof Asked a && Objects.equals(desired, a.desired)
                    && Objects.equals(lifetime, a.lifetime) && Objects.equals(stopGracePeriod, a.stopGracePeriod);
        }

        @Override
        public int hashCode() {
            return Objects.hash(desired, lifetime, stopGracePeriod);
        }
    }

    /**
     * What the blades, the guest and the directory show.
     *
     * @param observation        what the blades show, as {@link VmPlanner#observe} sorted it
     * @param addresses          the running VM's IPv4 addresses as learnt (most trusted source first); empty if none
     * @param directoryReadable  the student's directory could be read: without it nothing is removed
     * @param failure            a libvirt call of this pass failed, and why
     */
    public record Seen(Observation observation, VmHistory history, List<VmStatus.Address> addresses,
                       boolean directoryReadable, Optional<Failure> failure) {
        @Override
        public boolean equals(Object o) {
            return this == o || o instanceof Seen n && directoryReadable == n.directoryReadable
                    && Objects.equals(observation, n.observation) && Objects.equals(history, n.history)
                    && Objects.equals(addresses, n.addresses) && Objects.equals(failure, n.failure);
        }

        @Override
        public int hashCode() {
            return Objects.hash(observation, history, addresses, directoryReadable, failure);
        }
    }

    /**
     * What the quota, the image, the disk and the deletion guard allow.
     *
     * @param imageInUseBy    another VM of the student whose disk this image already is, or null
     * @param inspection      what is known of the inside of the image; null when inspection is off
     * @param disk            the base its disk comes from, its seed, the disk quota
     * @param deletionBlocked why removals are held back now (the deletion guard), if they are
     * @param deletionRetry   when to ask the deletion guard again
     */
    public record Allowed(Admission.Verdict admission, ImageVerdict image, String imageInUseBy, Inspection inspection,
                          DiskFacts disk, Optional<String> deletionBlocked, Duration deletionRetry) {
        @Override
        public boolean equals(Object o) {
            return this == o || o instanceof Allowed a && Objects.equals(admission, a.admission)
                    && Objects.equals(image, a.image) && Objects.equals(imageInUseBy, a.imageInUseBy)
                    && Objects.equals(inspection, a.inspection) && Objects.equals(disk, a.disk)
                    && Objects.equals(deletionBlocked, a.deletionBlocked)
                    && Objects.equals(deletionRetry, a.deletionRetry);
        }

        @Override
        public int hashCode() {
            return Objects.hash(admission, image, imageInUseBy, inspection, disk, deletionBlocked, deletionRetry);
        }
    }

    /**
     * The domain this VM has or would get, and where it goes.
     *
     * @param nameTakenBy who else has the domain name a new domain would get, if anyone
     * @param blades      what the blades' state says of placing a new VM (see {@link PlacementPlanner#hold})
     * @param placement   for a VM with no domain yet: the chosen blade, or why none
     * @param move        for a VM on a draining blade: where it goes, or why not yet; a move under way
     */
    public record Target(String domainName, RenderedDomain rendered, Optional<String> nameTakenBy, Blades blades,
                         Placement placement, Move move) {
        @Override
        public boolean equals(Object o) {
            return this == o || o instanceof Target t && Objects.equals(domainName, t.domainName)
                    && Objects.equals(rendered, t.rendered) && Objects.equals(nameTakenBy, t.nameTakenBy)
                    && Objects.equals(blades, t.blades) && Objects.equals(placement, t.placement)
                    && Objects.equals(move, t.move);
        }

        @Override
        public int hashCode() {
            return Objects.hash(domainName, rendered, nameTakenBy, blades, placement, move);
        }
    }

    @Override
    public boolean equals(Object o) {
        return this == o || o instanceof VmFacts f && Objects.equals(vm, f.vm) && Objects.equals(owner, f.owner)
                && Objects.equals(asked, f.asked) && Objects.equals(seen, f.seen) && Objects.equals(allowed, f.allowed)
                && Objects.equals(target, f.target) && Objects.equals(now, f.now);
    }

    @Override
    public int hashCode() {
        return Objects.hash(vm, owner, asked, seen, allowed, target, now);
    }

    /** The same facts seen at another moment ({@link Instant#EPOCH}: the facts a clean pass is compared by). */
    public VmFacts at(Instant instant) {
        return new VmFacts(vm, owner, asked, seen, allowed, target, instant);
    }

    /** The facts after the blades were looked at again (a call was made). */
    public VmFacts observed(Observation observation, VmHistory after) {
        return new VmFacts(vm, owner, asked, new Seen(observation, after, seen.addresses(), seen.directoryReadable(),
                seen.failure()), allowed, target, now);
    }

    /** The facts after a call failed. */
    public VmFacts failed(Failure why) {
        return new VmFacts(vm, owner, asked, new Seen(seen.observation(), seen.history(), seen.addresses(),
                seen.directoryReadable(), Optional.of(why)), allowed, target, now);
    }

    /** The same facts with another wish (an expired VM is planned as if Halted). */
    public VmFacts desiring(Desired wish) {
        return new VmFacts(vm, owner, new Asked(wish, asked.lifetime(), asked.stopGracePeriod()), seen, allowed,
                target, now);
    }

    /** The facts with the deletion guard's answer about removing its domain. */
    public VmFacts guarded(Optional<String> heldBecause, java.time.Duration askAgainIn) {
        return new VmFacts(vm, owner, asked, seen, new Allowed(allowed.admission(), allowed.image(),
                allowed.imageInUseBy(), allowed.inspection(), allowed.disk(), heldBecause, askAgainIn), target, now);
    }

    /** The facts once room was reserved for it on a blade, or not (the placement says why). */
    public VmFacts placed(Placement placement) {
        return new VmFacts(vm, owner, asked, seen, allowed, new Target(target.domainName(), target.rendered(),
                target.nameTakenBy(), target.blades(), placement, target.move()), now);
    }

    /** The facts once a move was started. */
    public VmFacts moving(Move move) {
        return new VmFacts(vm, owner, asked, seen, allowed, new Target(target.domainName(), target.rendered(),
                target.nameTakenBy(), target.blades(), target.placement(), move), now);
    }

    /** The facts once a look inside the image was asked for. */
    public VmFacts inspecting(Inspection look) {
        return new VmFacts(vm, owner, asked, seen, new Allowed(allowed.admission(), allowed.image(),
                allowed.imageInUseBy(), look, allowed.disk(), allowed.deletionBlocked(), allowed.deletionRetry()),
                target, now);
    }

    /** The facts once the VM's seed was made from what it is made of now. */
    public VmFacts seeded() {
        DiskFacts disk = allowed.disk();
        DiskFacts made = new DiskFacts(disk.base(), disk.seed().map(s -> new DiskFacts.Seed(s.path(), s.inputs(), true,
                s.userData(), s.uuid())), disk.used(), disk.limit());
        return new VmFacts(vm, owner, asked, seen, new Allowed(allowed.admission(), allowed.image(),
                allowed.imageInUseBy(), allowed.inspection(), made, allowed.deletionBlocked(),
                allowed.deletionRetry()), target, now);
    }

    /** The one domain of this VM, if exactly one of the student's is there. */
    public Optional<org.ievirsh.blade.ObservedDomain> domain() {
        return seen.observation() instanceof Observation.Found found ? Optional.of(found.domain()) : Optional.empty();
    }

    /** Placement of a new VM: a blade, or why there is none yet ({@code waiting}: it may come). */
    public record Placement(Optional<String> blade, boolean waiting, String reason) {
        public static final Placement NONE = waiting("not placed yet");

        public static Placement on(String blade) {
            return new Placement(Optional.of(blade), false, "");
        }

        public static Placement unschedulable(String reason) {
            return new Placement(Optional.empty(), false, reason);
        }

        public static Placement waiting(String reason) {
            return new Placement(Optional.empty(), true, reason);
        }
    }

    /**
     * Blades is what the blades' state says of where a new VM may go.
     *
     * @param unreachable   blades not connected, or not listed since the start
     * @param unlisted      blades not listed since the start: they may hold VMs we do not know of
     * @param startupGrace  the controller started a moment ago: every unlisted blade holds placements back
     * @param lastBlade     the blade the VM's last status named, if any
     */
    public record Blades(List<String> unreachable, List<String> unlisted, boolean startupGrace,
                         Optional<String> lastBlade) {
        public static final Blades ALL_UP = new Blades(List.of(), List.of(), false, Optional.empty());
    }

    /**
     * Move is a VM's way off a draining blade (the README's "The blades as one pool").
     *
     * @param under     a move under way: the blade it goes to
     * @param to        the blade with room reserved for it, when it may go now
     * @param waiting   why it cannot go now (no room, no free migration slot, a failed move waiting to retry)
     */
    public record Move(Optional<String> under, Optional<String> to, String waiting) {
        public static final Move NONE = new Move(Optional.empty(), Optional.empty(), "");

        public boolean draining() {
            return under.isPresent() || to.isPresent() || !waiting.isEmpty();
        }
    }

    /**
     * Lifetime is when a VM ends (the README's "The semester").
     *
     * @param file        its file's spec.expires, read in the controller's zone, if it gives one
     * @param admin       the admin's date for its owner (user, groups, default), if any
     * @param adminText   that date as the admin wrote it, for messages
     * @param warnBefore  how long before the end the VM shows Expiring
     * @param zone        the controller's time zone, in which the end is told
     */
    public record Lifetime(Optional<Instant> file, Optional<Instant> admin, String adminText, Duration warnBefore,
                           java.time.ZoneId zone) {
        public static final Lifetime FOREVER = new Lifetime(Optional.empty(), Optional.empty(), "",
                Duration.ofDays(7), java.time.ZoneOffset.UTC);

        /** The end as a student reads it: a local date and time with its offset. */
        public String endText() {
            return end().map(e -> java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm xxx")
                    .format(e.atZone(zone))).orElse("never");
        }

        /** The earliest of the two: when the VM halts for good; empty: never. */
        public Optional<Instant> end() {
            if (file.isPresent() && admin.isPresent()) {
                return Optional.of(file.get().isBefore(admin.get()) ? file.get() : admin.get());
            }
            return file.isPresent() ? file : admin;
        }

        /** Stage is where a VM stands in its lifetime at one moment. */
        public enum Stage { FOREVER, LIVING, EXPIRING, EXPIRED }

        public Stage stage(Instant now) {
            Optional<Instant> end = end();
            if (end.isEmpty()) {
                return Stage.FOREVER;
            }
            if (!now.isBefore(end.get())) {
                return Stage.EXPIRED;
            }
            return now.isBefore(end.get().minus(warnBefore)) ? Stage.LIVING : Stage.EXPIRING;
        }

        /** The next moment after {@code now} at which {@link #stage} changes; empty when it never does. */
        public Optional<Instant> nextChange(Instant now) {
            Optional<Instant> end = end();
            if (end.isEmpty() || !now.isBefore(end.get())) {
                return Optional.empty();
            }
            Instant warn = end.get().minus(warnBefore);
            return Optional.of(now.isBefore(warn) ? warn : end.get());
        }
    }

    /**
     * Failure is a libvirt call that failed in this pass.
     *
     * @param reason a CamelCase reason for the Ready condition
     * @param retry  false when retrying cannot help until something changes (libvirt refused the definition)
     */
    public record Failure(String message, String reason, boolean retry) {
    }
}
