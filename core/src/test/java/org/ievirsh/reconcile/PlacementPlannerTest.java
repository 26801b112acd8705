package org.ievirsh.reconcile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.libvirt.DomainState;
import org.ievirsh.libvirt.StopReason;
import org.junit.jupiter.api.Test;

/** PlacementPlannerTest: which VMs need room on a blade now, which wait, and which need none. */
class PlacementPlannerTest {
    private static final ObservedDomain DOMAIN = new ObservedDomain("b2", PlannerFixture.UUID, "alice-web",
            DomainState.RUNNING, StopReason.UNKNOWN, PlannerFixture.metadata("sha256:r"), Optional.empty(), false);
    private static final VmFacts.Blades B2_AWAY_LAST_THERE = new VmFacts.Blades(List.of("b2"), List.of(), false,
            Optional.of("b2"));

    @Test
    void aNewVmThatCanBeMadeNeedsRoom() {
        assertInstanceOf(PlacementPlanner.Need.Room.class,
                PlacementPlanner.need(true, new Observation.None(), false, VmFacts.Blades.ALL_UP));
    }

    @Test
    void aVmThatExistsIsRefusedOrWhoseNameIsTakenNeedsNoRoom() {
        assertInstanceOf(PlacementPlanner.Need.Nothing.class,
                PlacementPlanner.need(true, new Observation.Found(DOMAIN, true), false, VmFacts.Blades.ALL_UP));
        assertInstanceOf(PlacementPlanner.Need.Nothing.class,
                PlacementPlanner.need(true, new Observation.Conflict("two blades"), false, VmFacts.Blades.ALL_UP));
        assertInstanceOf(PlacementPlanner.Need.Nothing.class,
                PlacementPlanner.need(true, new Observation.Stale(DOMAIN, List.of(DOMAIN.withState(DomainState.PAUSED,
                        StopReason.UNKNOWN))), false, VmFacts.Blades.ALL_UP));
        assertInstanceOf(PlacementPlanner.Need.Nothing.class,
                PlacementPlanner.need(false, new Observation.None(), false, VmFacts.Blades.ALL_UP));
        assertInstanceOf(PlacementPlanner.Need.Nothing.class,
                PlacementPlanner.need(true, new Observation.None(), true, VmFacts.Blades.ALL_UP));
    }

    @Test
    void aVmLastOnABladeThatDoesNotAnswerWaitsUnlessItIsStrandedThere() {
        PlacementPlanner.Need waits = PlacementPlanner.need(true, new Observation.None(), false, B2_AWAY_LAST_THERE);
        assertEquals("the VM was last on blade b2, which does not answer now; it is not recreated elsewhere"
                + " (its disk would be opened twice)", ((PlacementPlanner.Need.Wait) waits).why());
        assertInstanceOf(PlacementPlanner.Need.Room.class, PlacementPlanner.need(true,
                new Observation.Stranded(DOMAIN, Duration.ofMinutes(10)), false, B2_AWAY_LAST_THERE));
    }
}
