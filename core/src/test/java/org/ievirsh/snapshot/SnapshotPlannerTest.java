package org.ievirsh.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.ievirsh.snapshot.SnapshotPlanner.Op;
import org.ievirsh.snapshot.SnapshotPlanner.Plan;
import org.junit.jupiter.api.Test;

class SnapshotPlannerTest {
    private static final SnapshotPlanner.Snapshot A = new SnapshotPlanner.Snapshot("a", 1, 64 << 20);
    private static final SnapshotPlanner.Snapshot B = new SnapshotPlanner.Snapshot("b", 2, 0);

    private static SnapshotPlanner.Facts running(List<SnapshotPlanner.Snapshot> in, Set<String> recorded) {
        return new SnapshotPlanner.Facts("web", Optional.empty(), true, in, recorded, 5);
    }

    private static SnapshotPlanner.Facts stopped(List<SnapshotPlanner.Snapshot> in, Set<String> recorded) {
        return new SnapshotPlanner.Facts("web", Optional.empty(), false, in, recorded, 5);
    }

    private static String refusal(Plan plan) {
        return assertInstanceOf(Plan.Refused.class, plan).message();
    }

    @Test
    void aRunningVmIsSnapshottedRevertedAndCleanedByLibvirt() {
        assertEquals(new Plan.Libvirt(Op.CREATE, "c"), SnapshotPlanner.plan(Op.CREATE, "c", running(List.of(A), Set.of("a"))));
        assertEquals(new Plan.Libvirt(Op.REVERT, "a"), SnapshotPlanner.plan(Op.REVERT, "a", running(List.of(A), Set.of("a"))));
        assertEquals(new Plan.Libvirt(Op.DELETE, "a"), SnapshotPlanner.plan(Op.DELETE, "a", running(List.of(A), Set.of("a"))));
    }

    @Test
    void aStoppedVmIsSnapshottedByQemuImgAndLibvirtsRecordForgottenWhenItDeletesOne() {
        assertEquals(new Plan.QemuImg("-c", "c", false), SnapshotPlanner.plan(Op.CREATE, "c", stopped(List.of(A), Set.of("a"))));
        assertEquals(new Plan.QemuImg("-a", "a", false), SnapshotPlanner.plan(Op.REVERT, "a", stopped(List.of(A), Set.of("a"))));
        assertEquals(new Plan.QemuImg("-d", "a", true), SnapshotPlanner.plan(Op.DELETE, "a", stopped(List.of(A), Set.of("a"))));
        assertEquals(new Plan.QemuImg("-d", "b", false), SnapshotPlanner.plan(Op.DELETE, "b", stopped(List.of(B), Set.of())));
    }

    @Test
    void aSnapshotTakenStoppedIsRevertedOrDeletedOnlyStopped() {
        // libvirt has no record of it: a running revert would have no memory to go back to.
        assertTrue(refusal(SnapshotPlanner.plan(Op.REVERT, "b", running(List.of(B), Set.of()))).contains("destroy web --wait"));
        assertTrue(refusal(SnapshotPlanner.plan(Op.DELETE, "b", running(List.of(B), Set.of()))).contains("once web is stopped"));
    }

    @Test
    void aLabelTakenAMissingOneAndTheMostAllowedAreRefused() {
        assertTrue(refusal(SnapshotPlanner.plan(Op.CREATE, "a", running(List.of(A), Set.of("a")))).contains("already"));
        assertTrue(refusal(SnapshotPlanner.plan(Op.REVERT, "x", running(List.of(A), Set.of("a")))).contains("no snapshot x"));
        assertTrue(refusal(SnapshotPlanner.plan(Op.DELETE, "x", stopped(List.of(A), Set.of()))).contains("no snapshot x"));
        SnapshotPlanner.Facts two = new SnapshotPlanner.Facts("web", Optional.empty(), true, List.of(A, B), Set.of(), 2);
        assertTrue(refusal(SnapshotPlanner.plan(Op.CREATE, "c", two)).contains("snapshots.maxPerVm 2"));
        SnapshotPlanner.Facts none = new SnapshotPlanner.Facts("web", Optional.empty(), false, List.of(), Set.of(), 0);
        assertTrue(refusal(SnapshotPlanner.plan(Op.CREATE, "c", none)).contains("snapshots.maxPerVm 0"));
        // The most allowed still lets a student go back to, and delete, what they have.
        assertEquals(new Plan.QemuImg("-a", "a", false), SnapshotPlanner.plan(Op.REVERT, "a",
                new SnapshotPlanner.Facts("web", Optional.empty(), false, List.of(A, B), Set.of(), 2)));
    }

    @Test
    void aVmOnHoldGetsNothingDoneButItsListAndTheHoldsReason() {
        SnapshotPlanner.Facts moving = new SnapshotPlanner.Facts("web", Optional.of("web is moving"), true,
                List.of(A), Set.of("a"), 5);
        for (Op op : List.of(Op.CREATE, Op.REVERT, Op.DELETE)) {
            assertEquals("web is moving", refusal(SnapshotPlanner.plan(op, "a", moving)));
        }
        assertInstanceOf(Plan.List.class, SnapshotPlanner.plan(Op.LIST, null, moving));
    }
}
