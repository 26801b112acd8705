package org.ievirsh.reconcile;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.ievirsh.api.v1.Condition;
import org.ievirsh.api.v1.Reasons;
import org.ievirsh.image.ImageVerdict;
import org.ievirsh.image.Inspection;
import org.junit.jupiter.api.Test;

/** ImagePlannerTest: the admins' metric names the same image problem the student's status does. */
class ImagePlannerTest {
    private static String statusReason(PlannerFixture f) {
        Condition ready = f.plan().status().orElseThrow().condition(Condition.IMAGE_READY);
        return ready == null ? null : ready.reason();
    }

    @Test
    void theMetricsReasonIsTheStatussReason() {
        PlannerFixture rejected = new PlannerFixture();
        rejected.image = ImageVerdict.reject("/srv/images/alice/web.qcow2", "ImageUnreadable", "cannot read it");
        PlannerFixture shared = new PlannerFixture();
        shared.imageInUseBy = "db";
        PlannerFixture insecure = new PlannerFixture();
        insecure.inspection = new Inspection(Inspection.State.INSECURE, true, "web.qcow2: Vagrant's key", null);
        PlannerFixture failed = new PlannerFixture();
        failed.inspection = new Inspection(Inspection.State.FAILED, true, "the look failed", null);
        for (PlannerFixture f : new PlannerFixture[] {rejected, shared, insecure, failed}) {
            assertEquals(Optional.of(statusReason(f)), ImagePlanner.problem(f.facts()));
        }
        assertEquals(Optional.empty(), ImagePlanner.problem(new PlannerFixture().facts()));
        assertEquals(Optional.empty(), ImagePlanner.problem(new PlannerFixture().invalid("bad").facts()),
                "no valid file: no image was checked");
    }

    @Test
    void anImageServesTheVmWithADomainFirstThenTheOlderFileThenTheName() {
        java.util.Map<String, String> shared = ImagePlanner.sharedWith(java.util.List.of(
                new ImagePlanner.Claim("new", "disk-a", false, 100),
                new ImagePlanner.Claim("old", "disk-a", false, 50),
                new ImagePlanner.Claim("running", "disk-a", true, 900),
                new ImagePlanner.Claim("b", "disk-b", false, 10),
                new ImagePlanner.Claim("a", "disk-b", false, 10),
                new ImagePlanner.Claim("alone", "disk-c", false, 1)));
        assertEquals(java.util.Map.of("new", "running", "old", "running", "b", "a"), shared);
    }
}
