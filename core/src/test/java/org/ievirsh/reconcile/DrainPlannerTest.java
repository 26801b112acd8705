package org.ievirsh.reconcile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** DrainPlannerTest: how a VM leaves a draining blade, row by row. */
class DrainPlannerTest {
    private static final Optional<String> NONE = Optional.empty();

    @Test
    void aMoveUnderWayIsOnItsWayWhateverElseHolds() {
        assertEquals(new DrainPlanner.Leave.Moving("b2"), DrainPlanner.leave(Optional.of("b2"), false, false, NONE, 0));
    }

    @Test
    void aVmNotOnADrainingBladeOrWithNothingToMakeStays() {
        assertEquals(new DrainPlanner.Leave.Stay(), DrainPlanner.leave(NONE, false, true, NONE, 2));
        assertEquals(new DrainPlanner.Leave.Stay(), DrainPlanner.leave(NONE, true, false, NONE, 2));
    }

    @Test
    void aRecentFailureWaitsAndSaysWhatTheMoveSaid() {
        DrainPlanner.Leave leave = DrainPlanner.leave(NONE, true, true, Optional.of("the lock manager refused"), 2);
        assertTrue(leave instanceof DrainPlanner.Leave.Wait wait && wait.why().contains("the lock manager refused")
                && wait.why().contains("tried again within"), leave.toString());
    }

    @Test
    void noFreeSlotWaitsForOne() {
        assertEquals(new DrainPlanner.Leave.Wait("it waits for a free migration slot (migration.parallel)"),
                DrainPlanner.leave(NONE, true, true, NONE, 0));
    }

    @Test
    void otherwiseItNeedsRoomElsewhereNow() {
        assertEquals(new DrainPlanner.Leave.Room(), DrainPlanner.leave(NONE, true, true, NONE, 1));
    }
}
