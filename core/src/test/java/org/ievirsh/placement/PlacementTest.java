package org.ievirsh.placement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PlacementTest {
    private static final long GIB = 1L << 30;

    @Test
    void theBladeWithTheMostFreeMemoryThatFitsWins() {
        Placement.Choice choice = Placement.choose(List.of(
                new BladeRoom("b1", true, true, 10, 8 * GIB, 1),
                new BladeRoom("b2", true, true, 10, 20 * GIB, 5),
                new BladeRoom("b3", true, true, 1, 64 * GIB, 0)), 2, 2 * GIB);
        assertEquals(Optional.of("b2"), choice.blade());
    }

    @Test
    void tiesGoToFewerVmsThenToTheName() {
        assertEquals(Optional.of("b2"), Placement.choose(List.of(
                new BladeRoom("b1", true, true, 10, 8 * GIB, 3),
                new BladeRoom("b2", true, true, 10, 8 * GIB, 1)), 1, GIB).blade());
        assertEquals(Optional.of("a"), Placement.choose(List.of(
                new BladeRoom("b", true, true, 10, 8 * GIB, 1),
                new BladeRoom("a", true, true, 10, 8 * GIB, 1)), 1, GIB).blade());
    }

    @Test
    void unschedulableAndUnreachableBladesTakeNothingAndTheReasonSaysSo() {
        Placement.Choice choice = Placement.choose(List.of(
                new BladeRoom("b1", false, true, 10, 80 * GIB, 0),
                new BladeRoom("b2", true, false, 10, 80 * GIB, 0),
                new BladeRoom("b3", true, true, 1, 512L << 20, 0)), 2, 2 * GIB);
        assertTrue(choice.blade().isEmpty());
        assertEquals("no blade has room for 2 vCPUs and 2GiB: b1 takes no new VMs; b2 is unreachable;"
                + " b3 has 1 vCPUs and 512MiB free (an admin may set a blade's capacity: see the README's configuration)",
                choice.reason());
    }

    @Test
    void amountsAreSaidAsPeopleReadThem() {
        assertEquals("3.7GiB", org.ievirsh.api.v1.Quantities.readable(3921588L * 1024));
        assertEquals("2GiB", org.ievirsh.api.v1.Quantities.readable(2L << 30));
        assertEquals("512MiB", org.ievirsh.api.v1.Quantities.readable(512L << 20));
        assertEquals("0B", org.ievirsh.api.v1.Quantities.readable(0));
    }
}
