package org.ievirsh.reconcile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.Reasons;
import org.ievirsh.blade.Blade;
import org.ievirsh.blade.BladeRefresher;
import org.ievirsh.blade.Fleet;
import org.ievirsh.libvirt.DomainState;
import org.ievirsh.libvirt.FakeBladeLink;
import org.ievirsh.libvirt.FakeHypervisor;
import org.ievirsh.libvirt.HypervisorException;
import org.ievirsh.metrics.Metrics;
import org.ievirsh.support.ManualTime;
import org.ievirsh.users.Owner;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * ConvergerTest: one VM's pass carried out against a fake blade on a manual clock. A new VM is defined, started
 * and seen running in one pass; a busy blade is asked again soon with nothing failed; the lock manager's refusal
 * and libvirt's refusal of a definition end the pass with what the student is told, keeping what went through.
 */
class ConvergerTest {
    private static final Owner ALICE = new Owner("alice", 1001, 1001, List.of("students"), 1001, 1001);

    private final ManualTime clock = new ManualTime(PlannerFixture.NOW);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final UserMemory memory = new UserMemory();
    private FakeHypervisor hypervisor;
    private FakeBladeLink link;
    private Blade blade;
    private Converger converger;

    @BeforeEach
    void setUp() {
        hypervisor = new FakeHypervisor("blade01");
        link = new FakeBladeLink(hypervisor);
        blade = new Blade(new ControllerConfig.Blade("blade01", "fake:///blade01", true,
                ControllerConfig.Resources.NONE, ControllerConfig.Capacity.REPORTED), link);
        blade.connected();
        try {
            BladeRefresher.fullRefresh(blade.view(), hypervisor);  // listed once, as the controller does first
        } catch (HypervisorException e) {
            throw new AssertionError(e);
        }
        hypervisor.calls.set(0);  // the tests count the pass's calls alone
        // No inspection, migration or student file is planned here: those collaborators are never asked.
        converger = new Converger(new Fleet(List.of(blade)), null, null,
                new DeletionGuard(ControllerConfig.DeletionGuard.DEFAULT), new Metrics(registry), clock, user -> {
                }, now -> ObservationPlanner.BladeDown.KEEP, Path.of("/nonexistent"));
    }

    private static VmFacts newVm() {
        PlannerFixture fixture = new PlannerFixture();
        fixture.xml = "<domain><name>alice-web</name><uuid>" + PlannerFixture.UUID + "</uuid></domain>";
        return fixture.facts();
    }

    private long startsTimed() {
        Timer timer = registry.find("ievirsh.vm.start").timer();
        return timer == null ? 0 : timer.count();
    }

    @Test
    void aNewVmIsDefinedStartedAndSeenRunningInOnePass() {
        VmFacts facts = newVm();
        clock.advance(Duration.ofMillis(250));  // the calls take this long, as the clock tells
        Converger.Converged done = converger.converge(facts, ALICE, memory);

        assertEquals(2, done.calls(), "define and start");
        assertEquals(Optional.empty(), done.failure());
        assertEquals(List.of(), done.plan().actions(), "nothing left to do: the blade was looked at again");
        assertEquals(Phase.Running, done.plan().status().orElseThrow().phase());
        assertEquals(DomainState.RUNNING, hypervisor.state("alice-web"));
        assertEquals(1, startsTimed());
        assertEquals(250.0, registry.find("ievirsh.vm.start").timer().totalTime(TimeUnit.MILLISECONDS), 0.001,
                "from the pass that first wanted it running to the start, on the clock");
        assertTrue(memory.histories.containsKey("web"), "its history is kept for the next pass");
        assertFalse(memory.startWantedSince.containsKey("web"), "started: no longer waiting");
    }

    @Test
    void aBusyBladeIsAskedAgainSoonAndNothingFailed() throws Exception {
        for (int i = 0; i < Blade.CALLS_AT_ONCE; i++) {
            assertTrue(blade.acquire(Duration.ZERO));
        }
        Converger.Converged done = converger.converge(newVm(), ALICE, memory);

        assertEquals(Optional.of(CallOutcomes.AGAIN), done.again());
        assertEquals(Optional.empty(), done.failure(), "a busy blade is no failure of the student's VM");
        assertEquals(0, hypervisor.calls.get(), "the blade was not called");
        assertEquals(PlannerFixture.NOW, memory.startWantedSince.get("web"), "its start latency runs on");
        assertEquals(0, startsTimed());
    }

    @Test
    void aStartTheLockRefusesEndsThePassWithTheStudentsMessageAndKeepsTheDefinition() {
        hypervisor.imageLocked = true;
        Converger.Converged done = converger.converge(newVm(), ALICE, memory);

        VmFacts.Failure failure = done.failure().orElseThrow();
        assertEquals(Reasons.IMAGE_LOCKED, failure.reason());
        assertTrue(failure.retry(), "retried with back-off: the other QEMU may stop");
        assertTrue(done.plan().status().orElseThrow().message().contains("in use by another QEMU"),
                done.plan().status().orElseThrow().message());
        assertEquals(List.of(), done.plan().actions());
        assertEquals(DomainState.SHUTOFF, hypervisor.state("alice-web"), "the define went through and stays");
        assertEquals(0, startsTimed());
    }

    @Test
    void aDefinitionLibvirtRefusesIsFinalUntilSomethingChanges() {
        hypervisor.refuseDefines = true;
        Converger.Converged done = converger.converge(newVm(), ALICE, memory);

        VmFacts.Failure failure = done.failure().orElseThrow();
        assertEquals(Reasons.LIBVIRT_ERROR, failure.reason());
        assertFalse(failure.retry(), "the same definition would be refused again");
        assertTrue(failure.message().contains("unsupported configuration"), failure.message());
        assertEquals(1, hypervisor.calls.get(), "the define was tried, the start was not");
        assertEquals(List.of(), hypervisor.names(), "nothing defined");
    }

    @Test
    void aBladeThatWentAwayIsAFailureRetriedLater() {
        link.down();
        Converger.Converged done = converger.converge(newVm(), ALICE, memory);

        VmFacts.Failure failure = done.failure().orElseThrow();
        assertEquals(Reasons.LIBVIRT_ERROR, failure.reason());
        assertTrue(failure.retry());
        assertEquals(0, hypervisor.calls.get());
    }
}
