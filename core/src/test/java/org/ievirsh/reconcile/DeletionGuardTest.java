package org.ievirsh.reconcile;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.Optional;
import org.ievirsh.api.v1.ControllerConfig;
import org.junit.jupiter.api.Test;

class DeletionGuardTest {
    private static final Instant T0 = Instant.parse("2026-11-26T12:00:00Z");

    private static DeletionGuard guard(int managed) {
        DeletionGuard guard = new DeletionGuard(ControllerConfig.DeletionGuard.DEFAULT);
        guard.managedVms(managed);
        guard.firstPassDone();
        return guard;
    }

    @Test
    void aRemovalWaitsToBeCountedWithOthersThenGoesAhead() {
        DeletionGuard guard = guard(20);
        assertFalse(guard.ask("alice/web", T0).allowed());
        assertTrue(guard.ask("alice/web", T0.plus(DeletionGuard.SETTLE)).allowed());
    }

    @Test
    void moreRemovalsThanAllowedStopThemAllAndTripTheGuard() {
        DeletionGuard guard = guard(20);
        for (int i = 0; i < 6; i++) {
            guard.ask("user" + i + "/vm", T0);
        }
        DeletionGuard.Decision decision = guard.ask("user0/vm", T0.plusSeconds(60));
        assertFalse(decision.allowed());
        assertTrue(guard.isTripped());
        assertTrue(decision.heldBecause().orElseThrow().contains("6 VMs would be removed at once"));
    }

    @Test
    void theLimitIsAShareOfManagedVmsButNeverBelowFive() {
        DeletionGuard guard = guard(1000);
        for (int i = 0; i < 100; i++) {
            guard.ask("u" + i + "/vm", T0);
        }
        assertTrue(guard.ask("u0/vm", T0.plusSeconds(5)).allowed(), "100 of 1000 is within 10%");
        guard.ask("u100/vm", T0);
        assertFalse(guard.ask("u0/vm", T0.plusSeconds(5)).allowed());
    }

    @Test
    void restoredFilesReleaseTheGuard() {
        DeletionGuard guard = guard(10);
        for (int i = 0; i < 6; i++) {
            guard.ask("u" + i + "/vm", T0);
        }
        assertFalse(guard.ask("u0/vm", T0.plusSeconds(5)).allowed());
        assertTrue(guard.isTripped());
        guard.resolved("u5/vm");
        assertTrue(guard.ask("u0/vm", T0.plusSeconds(5)).allowed());
        assertFalse(guard.isTripped());
    }

    @Test
    void nothingIsRemovedBeforeTheFirstFullPass() {
        DeletionGuard guard = new DeletionGuard(new ControllerConfig.DeletionGuard(Optional.of(50), Optional.empty()));
        guard.ask("a/b", T0);
        assertFalse(guard.ask("a/b", T0.plusSeconds(60)).allowed());
        guard.firstPassDone();
        assertTrue(guard.ask("a/b", T0.plusSeconds(60)).allowed());
    }
}
