package org.ievirsh.reconcile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.SortedMap;
import java.util.TreeMap;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.blade.Blade;
import org.ievirsh.blade.BladeRefresher;
import org.ievirsh.blade.Fleet;
import org.ievirsh.blade.Migrations;
import org.ievirsh.libvirt.DomainState;
import org.ievirsh.libvirt.FakeBladeLink;
import org.ievirsh.libvirt.FakeHypervisor;
import org.ievirsh.libvirt.HypervisorException;
import org.ievirsh.libvirt.StopReason;
import org.ievirsh.quota.Admission;
import org.ievirsh.support.ManualTime;
import org.junit.jupiter.api.Test;

/**
 * BookkeepingTest: the one step that changes the controller's tallies, on the gatherer's facts. Room is reserved
 * for a VM to be made and given back once it is not needed; a VM on a draining blade has room held where it goes,
 * or waits for a migration slot; a removal is put to the deletion guard, and a file back resolves it.
 */
class BookkeepingTest {
    private static final long GIB = 1L << 30;

    private final ManualTime clock = new ManualTime(PlannerFixture.NOW);
    private Fleet fleet;
    private final DeletionGuard guard = new DeletionGuard(ControllerConfig.DeletionGuard.DEFAULT);
    private Bookkeeping bookkeeping;

    private void blades(boolean drainFirst, int parallel) {
        fleet = new Fleet(List.of(blade("blade01", drainFirst), blade("blade02", false)));
        Migrations migrations = new Migrations(fleet, () -> new ControllerConfig.Migration(parallel,
                OptionalLong.empty(), Duration.ofMinutes(5), false), new SimpleMeterRegistry(), clock, key -> {
                });
        bookkeeping = new Bookkeeping(fleet, migrations, guard);
    }

    private static Blade blade(String name, boolean drain) {
        FakeHypervisor hypervisor = new FakeHypervisor(name);
        Blade blade = new Blade(new ControllerConfig.Blade(name, "fake:///" + name, true,
                ControllerConfig.Resources.NONE, new ControllerConfig.Capacity(OptionalInt.of(8),
                OptionalLong.of(16 * GIB)), drain, Optional.empty()), new FakeBladeLink(hypervisor));
        blade.connected();
        try {
            BladeRefresher.fullRefresh(blade.view(), hypervisor);  // listed once: room there is known
        } catch (HypervisorException e) {
            throw new AssertionError(e);
        }
        return blade;
    }

    private SortedMap<String, VmFacts> reserve(PlannerFixture fixture) {
        fixture.placement = VmFacts.Placement.NONE;  // what the gatherer hands over: nothing placed yet
        SortedMap<String, VmFacts> vms = new TreeMap<>();
        vms.put("web", fixture.facts());
        return bookkeeping.reserve("alice", vms);
    }

    /** The vCPUs and memory placed on {@code blade}: its domains' and the reservations'. */
    private long[] allocated(String blade) {
        return java.util.Arrays.copyOf(fleet.allocated(blade), 2);
    }

    @Test
    void aNewVmGetsRoomOnABladeAndGivesItBackOnceItsDomainIsThere() {
        blades(false, 2);
        VmFacts placed = reserve(new PlannerFixture()).get("web");
        String blade = placed.target().placement().blade().orElseThrow();
        assertArrayEquals(new long[] {2, 2 * GIB}, allocated(blade), "its vCPUs and memory held there");

        VmFacts defined = reserve(new PlannerFixture().domain(DomainState.RUNNING, StopReason.UNKNOWN)).get("web");
        assertEquals(VmFacts.Placement.NONE, defined.target().placement(), "a VM with its domain is not placed");
        assertArrayEquals(new long[] {0, 0}, allocated(blade), "its room given back: the domain's counts now");
    }

    @Test
    void aVmOverQuotaIsNotPlaced() {
        blades(false, 2);
        PlannerFixture fixture = new PlannerFixture();
        fixture.admission = new Admission.Verdict(false, false, "over quota");
        assertEquals(VmFacts.Placement.NONE, reserve(fixture).get("web").target().placement());
        assertArrayEquals(new long[] {0, 0}, allocated("blade01"));
        assertArrayEquals(new long[] {0, 0}, allocated("blade02"));
    }

    @Test
    void aVmOnADrainingBladeHasRoomHeldWhereItGoes() {
        blades(true, 2);
        VmFacts vm = reserve(new PlannerFixture().domain(DomainState.RUNNING, StopReason.UNKNOWN)).get("web");
        assertEquals(new VmFacts.Move(Optional.empty(), Optional.of("blade02"), ""), vm.target().move());
        assertArrayEquals(new long[] {2, 2 * GIB}, allocated("blade02"), "held for the whole move");
    }

    @Test
    void aVmOnADrainingBladeWaitsWhenNoMigrationSlotIsFree() {
        blades(true, 0);
        VmFacts vm = reserve(new PlannerFixture().domain(DomainState.RUNNING, StopReason.UNKNOWN)).get("web");
        assertEquals("it waits for a free migration slot (migration.parallel)", vm.target().move().waiting());
        assertArrayEquals(new long[] {0, 0}, allocated("blade02"), "nothing held");
    }

    @Test
    void aRemovalIsPutToTheDeletionGuardAndAFileBackResolvesIt() {
        blades(false, 2);
        guard.managedVms(20);
        guard.firstPassDone();
        PlannerFixture gone = new PlannerFixture().domain(DomainState.RUNNING, StopReason.UNKNOWN).absent();
        VmFacts held = keep(gone).get("web");
        assertEquals(Optional.of("removing in a moment"), held.allowed().deletionBlocked(),
                "counted with others first");
        assertEquals(DeletionGuard.SETTLE, held.allowed().deletionRetry());
        assertEquals(1, guard.pendingRemovals());

        keep(new PlannerFixture().domain(DomainState.RUNNING, StopReason.UNKNOWN));
        assertEquals(0, guard.pendingRemovals(), "the file came back: nothing pending");
    }

    @Test
    void aDirectoryThatCouldNotBeReadRemovesNothingAndAsksNothing() {
        blades(false, 2);
        guard.firstPassDone();
        PlannerFixture gone = new PlannerFixture().domain(DomainState.RUNNING, StopReason.UNKNOWN).absent();
        VmFacts vm = keepUnread(gone).get("web");
        assertEquals(Optional.empty(), vm.allowed().deletionBlocked());
        assertEquals(0, guard.pendingRemovals());
    }

    private SortedMap<String, VmFacts> keep(PlannerFixture fixture) {
        return keep(fixture, true);
    }

    private SortedMap<String, VmFacts> keepUnread(PlannerFixture fixture) {
        return keep(fixture, false);
    }

    /** The whole step, as the reconciler runs it on a student whose directory was (or was not) read. */
    private SortedMap<String, VmFacts> keep(PlannerFixture fixture, boolean readable) {
        SortedMap<String, VmFacts> vms = new TreeMap<>();
        vms.put("web", fixture.facts());
        return bookkeeping.keep("alice", vms, readable, 1);
    }
}
