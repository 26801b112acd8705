package org.ievirsh.reconcile;

import java.time.Duration;
import java.time.Instant;
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
