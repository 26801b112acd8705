package org.ievirsh.reconcile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.ievirsh.api.v1.RunStrategy;
import org.ievirsh.image.ImageVerdict;
import org.ievirsh.image.Inspection;
import org.ievirsh.libvirt.DomainState;
import org.ievirsh.libvirt.StopReason;
import org.ievirsh.quota.Admission;
import org.ievirsh.status.Condition;
import org.ievirsh.status.Phase;
import org.ievirsh.status.VmStatus;
import org.junit.jupiter.api.Test;

class VmPlannerTest {

    private static List<Class<?>> kinds(VmPlan plan) {
        return plan.actions().stream().<Class<?>>map(Object::getClass).toList();
    }

    private static VmStatus status(VmPlan plan) {
        return plan.status().orElseThrow();
    }

    private static String condition(VmPlan plan, String type) {
        Condition c = status(plan).condition(type);
        return c.status() + "/" + c.reason();
    }

    @Test
    void aNewValidFileIsDefinedAndStartedOnItsBlade() {
        VmPlan plan = new PlannerFixture().plan();
        assertEquals(List.of(Action.Define.class, Action.Start.class), kinds(plan));
        assertEquals("blade01", plan.actions().get(0).blade());
        assertEquals(Phase.Starting, status(plan).phase());
        assertEquals("<domain/>", plan.definedXml().orElseThrow().xml());
        assertFalse(((Action.Start) plan.actions().get(1)).afterFailure());
    }

    @Test
    void aNewHaltedVmIsOnlyDefined() {
        VmPlan plan = new PlannerFixture().strategy(RunStrategy.Halted).plan();
        assertEquals(List.of(Action.Define.class), kinds(plan));
    }

    @Test
    void aNewVmThatCannotRunForTheRunningQuotaIsOnlyDefined() {
        PlannerFixture f = new PlannerFixture();
        f.admission = new Admission.Verdict(true, false, "2 of 2 running VMs in use: a, b");
        assertEquals(List.of(Action.Define.class), kinds(f.plan()));
    }

    @Test
    void withoutABladeANewVmWaitsOrIsUnschedulable() {
        PlannerFixture waiting = new PlannerFixture();
        waiting.placement = VmFacts.Placement.waiting("waiting for blade02");
        assertEquals(Phase.Pending, status(waiting.plan()).phase());
        assertTrue(waiting.plan().actions().isEmpty());

        PlannerFixture full = new PlannerFixture();
        full.placement = VmFacts.Placement.unschedulable("no blade has room for 2 vCPUs and 2GiB");
        VmPlan plan = full.plan();
        assertEquals(Phase.Unschedulable, status(plan).phase());
        assertEquals("False/Unschedulable", condition(plan, Condition.SCHEDULED));
        assertTrue(plan.actions().isEmpty());
    }

    @Test
    void aRunningVmThatMatchesItsFileIsLeftAlone() {
        VmPlan plan = new PlannerFixture().domain(DomainState.RUNNING, StopReason.UNKNOWN).plan();
        assertTrue(plan.actions().isEmpty());
        assertEquals(Phase.Running, status(plan).phase());
        assertEquals("True/Running", condition(plan, Condition.READY));
        assertEquals("False/UpToDate", condition(plan, Condition.RESTART_REQUIRED));
        assertEquals(Optional.empty(), plan.requeueAfter());
    }

    @Test
    void haltedAsksTheGuestToShutDownThenForcesItOffAfterTheGracePeriod() {
        PlannerFixture f = new PlannerFixture().strategy(RunStrategy.Halted).domain(DomainState.RUNNING,
                StopReason.UNKNOWN);
        assertEquals(List.of(Action.Shutdown.class), kinds(f.plan()));
        assertEquals(Phase.Stopping, status(f.plan()).phase());

        f.history = f.history.stopRequested(PlannerFixture.NOW.minusSeconds(10));
        VmPlan waiting = f.plan();
        assertTrue(waiting.actions().isEmpty());
        assertEquals(Phase.Stopping, status(waiting).phase());
        assertTrue(status(waiting).message().contains("forced off in 50s"), status(waiting).message());
        assertEquals(Optional.of(Duration.ofSeconds(1)), waiting.requeueAfter());

        f.history = VmHistory.NEW.observe(null, PlannerFixture.NOW).stopRequested(PlannerFixture.NOW.minusSeconds(61));
        assertEquals(List.of(Action.Destroy.class), kinds(f.plan()));
    }

    @Test
    void aHaltedVmThatIsOffIsStopped() {
        VmPlan plan = new PlannerFixture().strategy(RunStrategy.Halted).domain(DomainState.SHUTOFF,
                StopReason.SHUTDOWN).plan();
        assertTrue(plan.actions().isEmpty());
        assertEquals(Phase.Stopped, status(plan).phase());
        assertEquals("False/Halted", condition(plan, Condition.READY));
    }

    @Test
    void alwaysStartsAVmThatWasKilledOutsideAndCountsItAsAFailure() {
        VmPlan plan = new PlannerFixture().domain(DomainState.SHUTOFF, StopReason.DESTROYED).plan();
        assertEquals(List.of(Action.Start.class), kinds(plan));
        assertTrue(((Action.Start) plan.actions().get(0)).afterFailure());
        assertEquals(Phase.Starting, status(plan).phase());
    }

    @Test
    void aDefinedButNeverStartedVmIsStartedWithoutCountingAFailure() {
        VmPlan plan = new PlannerFixture().domain(DomainState.SHUTOFF, StopReason.UNKNOWN).plan();
        assertFalse(((Action.Start) plan.actions().get(0)).afterFailure());
    }

    @Test
    void rerunOnFailureLeavesAGuestThatPoweredItselfOffAlone() {
        VmPlan plan = new PlannerFixture().strategy(RunStrategy.RerunOnFailure)
                .domain(DomainState.SHUTOFF, StopReason.SHUTDOWN).plan();
        assertTrue(plan.actions().isEmpty());
        assertEquals(Phase.Stopped, status(plan).phase());
        assertEquals("False/GuestPoweredOff", condition(plan, Condition.READY));
    }

    @Test
    void rerunOnFailureRestartsAfterACrashOrAForcedStop() {
        for (StopReason reason : List.of(StopReason.CRASHED, StopReason.DESTROYED, StopReason.FAILED)) {
            VmPlan plan = new PlannerFixture().strategy(RunStrategy.RerunOnFailure)
                    .domain(DomainState.SHUTOFF, reason).plan();
            assertEquals(List.of(Action.Start.class), kinds(plan), reason.name());
        }
    }

    @Test
    void rerunOnFailureRestartsAfterAStopWeAskedFor() {
        PlannerFixture f = new PlannerFixture().strategy(RunStrategy.RerunOnFailure);
        f.domain(DomainState.RUNNING, StopReason.UNKNOWN);
        f.history = f.history.stopRequested(PlannerFixture.NOW.minusSeconds(5));
        f.domain(DomainState.SHUTOFF, StopReason.SHUTDOWN);
        assertTrue(f.history.lastStop().ours());
        assertEquals(List.of(Action.Start.class), kinds(f.plan()));
    }

    @Test
    void aVmThatKeepsStoppingBacksOff() {
        PlannerFixture f = new PlannerFixture();
        f.history = new VmHistory(null, false, null, new VmHistory.LastStop(PlannerFixture.NOW, StopReason.CRASHED,
                false), 2, PlannerFixture.NOW.minusSeconds(5));
        f.domain(DomainState.SHUTOFF, StopReason.CRASHED);
        VmPlan plan = f.plan();
        assertTrue(plan.actions().isEmpty());
        assertEquals(Phase.CrashLoopBackOff, status(plan).phase());
        assertEquals(Optional.of(Duration.ofSeconds(15)), plan.requeueAfter());

        f.now = PlannerFixture.NOW.plusSeconds(16);
        assertEquals(List.of(Action.Start.class), kinds(f.plan()));
    }

    @Test
    void restartDelaysDoubleUpToFiveMinutes() {
        assertEquals(Duration.ZERO, VmHistory.restartDelay(0));
        assertEquals(Duration.ofSeconds(10), VmHistory.restartDelay(1));
        assertEquals(Duration.ofSeconds(20), VmHistory.restartDelay(2));
        assertEquals(Duration.ofSeconds(160), VmHistory.restartDelay(5));
        assertEquals(Duration.ofMinutes(5), VmHistory.restartDelay(6));
        assertEquals(Duration.ofMinutes(5), VmHistory.restartDelay(60));
    }

    @Test
    void aLongRunForgetsTheCrashLoop() {
        VmHistory h = new VmHistory(null, true, PlannerFixture.NOW.minus(VmHistory.STABLE), null, 4, PlannerFixture.NOW);
        PlannerFixture f = new PlannerFixture().domain(DomainState.RUNNING, StopReason.UNKNOWN);
        assertEquals(0, h.observe(((Observation.Found) f.observation).domain(), PlannerFixture.NOW).restarts());
    }

    @Test
    void aChangedDefinitionRedefinesARunningVmAndTheChangeWaitsForTheNextBoot() {
        PlannerFixture f = new PlannerFixture();
        f.domain(DomainState.RUNNING, StopReason.UNKNOWN, "sha256:render-0", Optional.of("sha256:render-0"), false,
                true);
        VmPlan plan = f.plan();
        assertEquals(List.of(Action.Define.class), kinds(plan));
        assertEquals(Phase.Running, status(plan).phase());
        assertEquals("True/DefinitionChanged", condition(plan, Condition.RESTART_REQUIRED));
    }

    @Test
    void aChangedDefinitionOfAStoppedVmIsRedefinedThenStarted() {
        PlannerFixture f = new PlannerFixture();
        f.domain(DomainState.SHUTOFF, StopReason.UNKNOWN, "sha256:render-0", Optional.empty(), false, true);
        assertEquals(List.of(Action.Define.class, Action.Start.class), kinds(f.plan()));
    }

    @Test
    void aDefinitionChangedOutsideIsPutBack() {
        PlannerFixture f = new PlannerFixture();
        f.domain(DomainState.RUNNING, StopReason.UNKNOWN, f.renderHash, Optional.of(f.renderHash), true, true);
        assertEquals(List.of(Action.Define.class), kinds(f.plan()));
    }

    @Test
    void anInvalidFileLeavesTheRunningVmAsItIs() {
        VmPlan plan = new PlannerFixture().invalid("64GiB exceeds the template maximum 4GiB")
                .domain(DomainState.RUNNING, StopReason.UNKNOWN).plan();
        assertTrue(plan.actions().isEmpty());
        assertEquals(Phase.Invalid, status(plan).phase());
        assertTrue(status(plan).message().startsWith("web.yaml:7:11: spec.memory: 64GiB exceeds"), status(plan).message());
        assertTrue(status(plan).message().contains("left as it is"));
        assertEquals("blade01", status(plan).blade());
        assertEquals("False/InvalidSpec", condition(plan, Condition.VALID));
    }

    @Test
    void overQuotaAndRejectedImagesCreateNothing() {
        PlannerFixture quota = new PlannerFixture();
        quota.admission = new Admission.Verdict(false, false, "over quota: 4 of 4 VMs in use: a, b, c, d");
        assertEquals(Phase.QuotaExceeded, status(quota.plan()).phase());
        assertTrue(quota.plan().actions().isEmpty());

        PlannerFixture image = new PlannerFixture();
        image.image = ImageVerdict.reject("/srv/images/alice/web.qcow2", "BackingFile", "web.qcow2: it names a backing file");
        assertEquals(Phase.ImageRejected, status(image.plan()).phase());
        assertEquals("False/BackingFile", condition(image.plan(), Condition.IMAGE_READY));
        assertTrue(image.plan().actions().isEmpty());
    }

    @Test
    void aRejectedImageNeverStartsAStoppedVmAgain() {
        PlannerFixture f = new PlannerFixture().domain(DomainState.SHUTOFF, StopReason.DESTROYED);
        f.image = ImageVerdict.reject("/p", "BackingFile", "web.qcow2: it names a backing file");
        assertTrue(f.plan().actions().isEmpty());
        assertEquals(Phase.ImageRejected, status(f.plan()).phase());
    }

    @Test
    void whileItsImageIsLookedInsideANewVmWaitsPendingInEveryMode() {
        for (boolean enforced : List.of(true, false)) {
            PlannerFixture f = new PlannerFixture();
            f.inspection = new Inspection(Inspection.State.INSPECTING, enforced, "looking inside web.qcow2", null);
            VmPlan plan = f.plan();
            assertTrue(plan.actions().isEmpty());
            assertEquals(Phase.Pending, status(plan).phase());
            assertEquals("Unknown/Inspecting", condition(plan, Condition.IMAGE_READY));
        }
    }

    @Test
    void anInsecureImageIsRejectedWhenEnforcedAndStartsWithTheFindingWhenWarned() {
        PlannerFixture enforced = new PlannerFixture().domain(DomainState.SHUTOFF, StopReason.CRASHED);
        enforced.inspection = new Inspection(Inspection.State.INSECURE, true, "web.qcow2: Vagrant's insecure RSA key"
                + " is in /home/vagrant/.ssh/authorized_keys", null);
        VmPlan rejected = enforced.plan();
        assertTrue(rejected.actions().isEmpty());
        assertEquals(Phase.ImageRejected, status(rejected).phase());
        assertEquals("False/InsecureImage", condition(rejected, Condition.IMAGE_READY));
        assertTrue(status(rejected).message().contains("/home/vagrant/.ssh/authorized_keys"));

        PlannerFixture warned = new PlannerFixture();
        warned.inspection = new Inspection(Inspection.State.INSECURE, false, "web.qcow2: Vagrant's insecure RSA key",
                null);
        VmPlan started = warned.plan();
        assertEquals(List.of(Action.Define.class, Action.Start.class), kinds(started));
        assertEquals("True/InsecureImage", condition(started, Condition.IMAGE_READY));
    }

    @Test
    void aFailedInspectionHoldsTheStartWhenEnforcedAndTriesAgainLater() {
        PlannerFixture f = new PlannerFixture();
        f.inspection = new Inspection(Inspection.State.FAILED, true, "web.qcow2 could not be inspected",
                Duration.ofMinutes(4));
        VmPlan plan = f.plan();
        assertTrue(plan.actions().isEmpty());
        assertEquals(Phase.Pending, status(plan).phase());
        assertEquals("Unknown/InspectionFailed", condition(plan, Condition.IMAGE_READY));
        assertEquals(Optional.of(Duration.ofMinutes(4)), plan.requeueAfter());
    }

    @Test
    void aCleanImageStartsAndARunningVmIsNeverStoppedForAFinding() {
        PlannerFixture clean = new PlannerFixture();
        clean.inspection = new Inspection(Inspection.State.CLEAN, true, "", null);
        assertEquals(List.of(Action.Define.class, Action.Start.class), kinds(clean.plan()));

        PlannerFixture running = new PlannerFixture().domain(DomainState.RUNNING, StopReason.UNKNOWN);
        running.inspection = new Inspection(Inspection.State.INSECURE, true, "web.qcow2: root has an empty password",
                null);
        assertTrue(running.plan().actions().isEmpty());
        assertEquals(Phase.ImageRejected, status(running.plan()).phase());
    }

    @Test
    void aRemovedFileStopsThenUndefinesTheVm() {
        PlannerFixture running = new PlannerFixture().absent().domain(DomainState.RUNNING, StopReason.UNKNOWN);
        assertEquals(List.of(Action.Shutdown.class), kinds(running.plan()));
        assertEquals(Phase.Terminating, status(running.plan()).phase());

        PlannerFixture off = new PlannerFixture().absent().domain(DomainState.SHUTOFF, StopReason.SHUTDOWN);
        assertEquals(List.of(Action.Undefine.class), kinds(off.plan()));
    }

    @Test
    void nothingIsRemovedWhileTheDirectoryCannotBeReadOrTheGuardHoldsRemovals() {
        PlannerFixture unreadable = new PlannerFixture().absent().domain(DomainState.SHUTOFF, StopReason.SHUTDOWN);
        unreadable.readable = false;
        assertTrue(unreadable.plan().actions().isEmpty());

        PlannerFixture held = new PlannerFixture().absent().domain(DomainState.SHUTOFF, StopReason.SHUTDOWN);
        held.deletionBlocked = Optional.of("40 VMs would be removed at once");
        assertTrue(held.plan().actions().isEmpty());
        assertEquals(Phase.Terminating, status(held.plan()).phase());
        assertTrue(status(held.plan()).message().contains("on hold"));
    }

    @Test
    void aVmThatIsGoneEverywhereLosesItsStatus() {
        VmPlan plan = new PlannerFixture().absent().plan();
        assertTrue(plan.actions().isEmpty());
        assertTrue(plan.status().isEmpty());
    }

    @Test
    void aVmOnAnUnreachableBladeIsUnknownAndUntouched() {
        PlannerFixture valid = new PlannerFixture().strategy(RunStrategy.Halted);
        valid.domain(DomainState.RUNNING, StopReason.UNKNOWN, valid.renderHash, Optional.of(valid.renderHash), false,
                false);
        assertTrue(valid.plan().actions().isEmpty());
        assertEquals(Phase.Unknown, status(valid.plan()).phase());

        PlannerFixture removed = new PlannerFixture().absent();
        removed.domain(DomainState.SHUTOFF, StopReason.UNKNOWN, removed.renderHash, Optional.empty(), false, false);
        assertTrue(removed.plan().actions().isEmpty());
    }

    @Test
    void aConflictTouchesNothingAndSaysWhy() {
        PlannerFixture f = new PlannerFixture();
        f.observation = new Observation.Conflict("VM web has a domain on 2 blades (blade01, blade02)");
        VmPlan plan = f.plan();
        assertTrue(plan.actions().isEmpty());
        assertEquals(Phase.Error, status(plan).phase());
        assertTrue(status(plan).message().contains("blade01, blade02"));
    }

    @Test
    void overTheRunningQuotaAStoppedVmStaysStoppedWithTheReason() {
        PlannerFixture f = new PlannerFixture().domain(DomainState.SHUTOFF, StopReason.UNKNOWN);
        f.admission = new Admission.Verdict(true, false, "2 of 2 running VMs in use: a, b");
        VmPlan plan = f.plan();
        assertTrue(plan.actions().isEmpty());
        assertEquals(Phase.Stopped, status(plan).phase());
        assertEquals("False/RunningQuotaExceeded", condition(plan, Condition.READY));
    }

    @Test
    void theStatusCarriesWhatTheStudentNeeds() {
        VmStatus s = status(new PlannerFixture().domain(DomainState.RUNNING, StopReason.UNKNOWN).plan());
        assertEquals("web", s.name());
        assertEquals(new VmStatus.Owner("alice", 1001), s.owner());
        assertEquals("blade01", s.blade());
        assertEquals("alice-web", s.domain());
        assertEquals(PlannerFixture.UUID, s.uuid());
        assertEquals("52:54:00:00:00:01", s.mac());
        assertEquals(2, s.vcpus());
        assertEquals("2GiB", s.memory());
        assertEquals("standard", s.template());
        assertEquals("/srv/images/alice/web.qcow2", s.image());
        assertEquals("sha256:spec", s.observedSpecHash());
        assertEquals(7, s.conditions().size());
    }
}
