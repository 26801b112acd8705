package org.ievirsh.reconcile;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import org.ievirsh.image.ImageVerdict;
import org.ievirsh.image.Inspection;
import org.ievirsh.quota.Admission;
import org.ievirsh.status.VmStatus;
import org.ievirsh.template.RenderedDomain;

/**
 * VmFacts is everything the planner knows about one VM at one moment. Fields
 * that were not evaluated (no valid file: no admission, image or rendering)
 * are null.
 *
 * @param inspection         what is known of the inside of the image; null when nothing needs saying
 * @param placement          for a VM with no domain yet: the chosen blade, or why none
 * @param deletionBlocked    why removals are held back now (the deletion guard), if they are
 * @param directoryReadable  the student's directory could be read: without it nothing is removed
 */
public record VmFacts(
        String vm,
        VmStatus.Owner owner,
        String domainName,
        Desired desired,
        Admission.Verdict admission,
        ImageVerdict image,
        Inspection inspection,
        RenderedDomain rendered,
        Placement placement,
        Observation observation,
        VmHistory history,
        boolean directoryReadable,
        Optional<String> deletionBlocked,
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
                && Objects.equals(admission, f.admission) && Objects.equals(image, f.image)
                && Objects.equals(inspection, f.inspection) && Objects.equals(rendered, f.rendered)
                && Objects.equals(placement, f.placement) && Objects.equals(observation, f.observation)
                && Objects.equals(history, f.history) && Objects.equals(deletionBlocked, f.deletionBlocked)
                && Objects.equals(stopGracePeriod, f.stopGracePeriod) && Objects.equals(now, f.now);
    }

    @Override
    public int hashCode() {
        return Objects.hash(vm, owner, domainName, desired, admission, image, inspection, rendered, placement,
                observation, history, directoryReadable, deletionBlocked, stopGracePeriod, now);
    }

    /** Placement of a new VM: a blade, or why there is none yet ({@code waiting}: it may come). */
    public record Placement(Optional<String> blade, boolean waiting, String reason) {
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
}
