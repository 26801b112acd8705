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
 * gathered: what the file asks, what the blades show, and what the quota,
 * the image, the templates and the blades allow. Fields that were not
 * evaluated (no valid file: no admission, image or rendering) are null.
 * Nothing here is a decision: the planner makes them all.
 *
 * @param observation        what the blades show, as {@link VmPlanner#observe} sorted it
 * @param imageInUseBy       another VM of the student whose disk this image already is, or null
 * @param inspection         what is known of the inside of the image; null when inspection is off
 * @param nameTakenBy        who else has the domain name a new domain would get, if anyone
 * @param blades             what the blades' state says of placing a new VM (see {@link VmPlanner#hold})
 * @param placement          for a VM with no domain yet: the chosen blade, or why none
 * @param deletionBlocked    why removals are held back now (the deletion guard), if they are
 * @param deletionRetry      when to ask the deletion guard again
 * @param directoryReadable  the student's directory could be read: without it nothing is removed
 * @param failure            a libvirt call of this pass failed, and why
 * @param addresses          the running VM's IPv4 addresses as learnt (most trusted source first); empty if none
 * @param lifetime           when the VM ends: its file's spec.expires and the admin's date for its owner
 * @param move               for a VM on a draining blade: where it goes, or why not yet; a move under way
 * @param disk               the base its disk comes from, its seed, the disk quota
 */
public record VmFacts(
        String vm,
        VmStatus.Owner owner,
        String domainName,
        Desired desired,
        Observation observation,
        VmHistory history,
        Admission.Verdict admission,
        ImageVerdict image,
        String imageInUseBy,
        Inspection inspection,
        RenderedDomain rendered,
        Optional<String> nameTakenBy,
        Blades blades,
        Placement placement,
        boolean directoryReadable,
        Optional<String> deletionBlocked,
        Duration deletionRetry,
        Optional<Failure> failure,
        List<VmStatus.Address> addresses,
        Lifetime lifetime,
        Move move,
        DiskFacts disk,
        Duration stopGracePeriod,
        Instant now) {

    /*
     * equals and hashCode are written out: a resync compares every VM's facts with the last clean
     * pass, and the generated record methods (method handles per component) were a quarter of an
     * idle pass. VmFactsEqualityTest checks that every component counts.
     */
    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof VmFacts f)) {
            return false;
        }
        return directoryReadable == f.directoryReadable && Objects.equals(vm, f.vm) && Objects.equals(owner, f.owner)
                && Objects.equals(domainName, f.domainName) && Objects.equals(desired, f.desired)
                && Objects.equals(observation, f.observation) && Objects.equals(history, f.history)
                && Objects.equals(admission, f.admission) && Objects.equals(image, f.image)
                && Objects.equals(imageInUseBy, f.imageInUseBy) && Objects.equals(inspection, f.inspection)
                && Objects.equals(rendered, f.rendered) && Objects.equals(nameTakenBy, f.nameTakenBy)
                && Objects.equals(blades, f.blades) && Objects.equals(placement, f.placement)
                && Objects.equals(deletionBlocked, f.deletionBlocked) && Objects.equals(deletionRetry, f.deletionRetry)
                && Objects.equals(failure, f.failure) && Objects.equals(addresses, f.addresses)
                && Objects.equals(lifetime, f.lifetime) && Objects.equals(move, f.move) && Objects.equals(disk, f.disk)
                && Objects.equals(stopGracePeriod, f.stopGracePeriod)
                && Objects.equals(now, f.now);
    }

    @Override
    public int hashCode() {
        return Objects.hash(vm, owner, domainName, desired, observation, history, admission, image, imageInUseBy,
                inspection, rendered, nameTakenBy, blades, placement, directoryReadable, deletionBlocked,
                deletionRetry, failure, addresses, lifetime, move, disk, stopGracePeriod, now);
    }

    /** The same facts seen at another moment ({@link Instant#EPOCH}: the facts a clean pass is compared by). */
    public VmFacts at(Instant instant) {
        return new VmFacts(vm, owner, domainName, desired, observation, history, admission, image, imageInUseBy,
                inspection, rendered, nameTakenBy, blades, placement, directoryReadable, deletionBlocked,
                deletionRetry, failure, addresses, lifetime, move, disk, stopGracePeriod, instant);
    }

    /** The facts after the blades were looked at again (a call was made). */
    public VmFacts observed(Observation seen, VmHistory after) {
        return new VmFacts(vm, owner, domainName, desired, seen, after, admission, image, imageInUseBy, inspection,
                rendered, nameTakenBy, blades, placement, directoryReadable, deletionBlocked, deletionRetry, failure,
                addresses, lifetime, move, disk, stopGracePeriod, now);
    }

    /** The facts after a call failed. */
    public VmFacts failed(Failure why) {
        return new VmFacts(vm, owner, domainName, desired, observation, history, admission, image, imageInUseBy,
                inspection, rendered, nameTakenBy, blades, placement, directoryReadable, deletionBlocked,
                deletionRetry, Optional.of(why), addresses, lifetime, move, disk, stopGracePeriod, now);
    }

    /** The same facts with another wish (an expired VM is planned as if Halted). */
    public VmFacts desiring(Desired wish) {
        return new VmFacts(vm, owner, domainName, wish, observation, history, admission, image, imageInUseBy,
                inspection, rendered, nameTakenBy, blades, placement, directoryReadable, deletionBlocked, deletionRetry,
                failure, addresses, lifetime, move, disk, stopGracePeriod, now);
    }

    /** The facts once a move was started. */
    public VmFacts moving(Move now) {
        return new VmFacts(vm, owner, domainName, desired, observation, history, admission, image, imageInUseBy,
                inspection, rendered, nameTakenBy, blades, placement, directoryReadable, deletionBlocked, deletionRetry,
                failure, addresses, lifetime, now, disk, stopGracePeriod, this.now);
    }

    /** The facts once a look inside the image was asked for. */
    public VmFacts inspecting(Inspection look) {
        return new VmFacts(vm, owner, domainName, desired, observation, history, admission, image, imageInUseBy,
                look, rendered, nameTakenBy, blades, placement, directoryReadable, deletionBlocked, deletionRetry,
                failure, addresses, lifetime, move, disk, stopGracePeriod, now);
    }

    /** The facts once the VM's seed was made from what it is made of now. */
    public VmFacts seeded() {
        DiskFacts made = new DiskFacts(disk.base(), disk.seed().map(s -> new DiskFacts.Seed(s.path(), s.inputs(), true, s.userData(), s.uuid())),
                disk.used(), disk.limit());
        return new VmFacts(vm, owner, domainName, desired, observation, history, admission, image, imageInUseBy,
                inspection, rendered, nameTakenBy, blades, placement, directoryReadable, deletionBlocked, deletionRetry,
                failure, addresses, lifetime, move, made, stopGracePeriod, now);
    }

    /** The one domain of this VM, if exactly one of the student's is there. */
    public Optional<org.ievirsh.blade.ObservedDomain> domain() {
        return observation instanceof Observation.Found found ? Optional.of(found.domain()) : Optional.empty();
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
