package org.ievirsh.reconcile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.blade.Blade;
import org.ievirsh.blade.Fleet;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.libvirt.DomainState;
import org.ievirsh.libvirt.FakeBladeLink;
import org.ievirsh.libvirt.FakeHypervisor;
import org.ievirsh.libvirt.StopReason;
import org.ievirsh.template.RenderedDomain;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** ExecutorTest: the executor's calls against a fake blade, and what each kind of failure is called. */
class ExecutorTest {
    private static final String UUID = PlannerFixture.UUID;
    private static final String XML = "<domain><name>alice-web</name><uuid>" + UUID + "</uuid></domain>";
    private static final RenderedDomain RENDERED = new RenderedDomain(() -> XML, "sha256:r",
            PlannerFixture.metadata("sha256:r"), "alice-web", UUID, 2, 2L << 30, "/srv/images/alice/web.qcow2",
            "qcow2");
    private static final List<Action> CREATE = List.of(new Action.Define("b1", UUID, XML),
            new Action.Start("b1", UUID, false));

    private FakeHypervisor hypervisor;
    private FakeBladeLink link;
    private Blade blade;
    private Executor executor;

    @BeforeEach
    void setUp() {
        hypervisor = new FakeHypervisor("b1");
        link = new FakeBladeLink(hypervisor);
        blade = new Blade(new ControllerConfig.Blade("b1", "fake:///b1", true, ControllerConfig.Resources.NONE,
                ControllerConfig.Capacity.REPORTED), link);
        executor = new Executor(new Fleet(List.of(blade)));
    }

    @Test
    void aNewVmIsDefinedAndStartedAndTheViewKnowsAtOnce() {
        Executor.Outcome outcome = executor.run(CREATE, RENDERED, Optional.empty());
        assertTrue(outcome.ok(), outcome.toString());
        assertEquals(CREATE, outcome.done());
        assertEquals(DomainState.RUNNING, hypervisor.state("alice-web"));
        assertEquals(DomainState.RUNNING, blade.view().get(UUID).orElseThrow().state(), "no event needed");
    }

    @Test
    void aStartTheLockRefusesIsLockedAndTheDefinedDomainIsKnown() {
        hypervisor.imageLocked = true;
        Executor.Outcome outcome = executor.run(CREATE, RENDERED, Optional.empty());
        assertEquals(Executor.Kind.LOCKED, outcome.kind());
        assertEquals(List.of(CREATE.get(0)), outcome.done(), "the define went through");
        assertEquals(DomainState.SHUTOFF, blade.view().get(UUID).orElseThrow().state());
    }

    @Test
    void aBladeWhoseSlotsAreTakenIsBusyAndIsNotCalled() throws Exception {
        for (int i = 0; i < Blade.CALLS_AT_ONCE; i++) {
            assertTrue(blade.acquire(java.time.Duration.ZERO));
        }
        int before = hypervisor.calls.get();
        Executor.Outcome outcome = executor.run(CREATE, RENDERED, Optional.empty());
        assertEquals(Executor.Kind.BUSY, outcome.kind());
        assertEquals(List.of(), outcome.done());
        assertEquals(before, hypervisor.calls.get());
    }

    @Test
    void aBladeThatIsDownIsUnreachable() {
        link.down();
        assertEquals(Executor.Kind.UNREACHABLE, executor.run(CREATE, RENDERED, Optional.empty()).kind());
    }

    @Test
    void aDomainThatNoLongerCarriesItsMetadataIsNotUndefined() throws Exception {
        hypervisor.define(XML);  // an admin's domain of that UUID now: no ie-virsh metadata
        ObservedDomain known = new ObservedDomain("b1", UUID, "alice-web", DomainState.SHUTOFF, StopReason.SHUTDOWN,
                PlannerFixture.metadata("sha256:r"), Optional.empty(), false);
        blade.view().put(known);
        Executor.Outcome outcome = executor.run(List.of(new Action.Undefine("b1", UUID)), RENDERED,
                Optional.of(known));
        assertFalse(outcome.ok());
        assertEquals(Executor.Kind.FAILED, outcome.kind());
        assertTrue(outcome.failure().orElseThrow().contains("left alone"), outcome.failure().orElseThrow());
        assertEquals(List.of("alice-web"), hypervisor.names(), "still there");
    }
}
