package org.ievirsh.reconcile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import org.ievirsh.api.Problem;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.RunStrategy;
import org.ievirsh.api.v1.VirtualMachine;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.libvirt.DomainState;
import org.ievirsh.libvirt.StopReason;
import org.ievirsh.quota.Admission;
import org.ievirsh.quota.QuotaLimits;
import org.junit.jupiter.api.Test;

/** AdmissionPlannerTest: what the quota allows one student, from files, domains and the last statuses alone. */
class AdmissionPlannerTest {
    private static final QuotaLimits ONE_RUNNING = new QuotaLimits(4, 1, 8, 8L << 30);
    private static final ControllerConfig.Course NET = new ControllerConfig.Course("net101", "net101",
            Optional.empty(), Optional.empty(), new ControllerConfig.Limits(Optional.of(1), Optional.of(1),
            Optional.empty(), Optional.empty(), Optional.empty()), Map.of());

    private final List<AdmissionPlanner.Vm> vms = new ArrayList<>();

    private static Desired.Valid valid(String name) {
        return new Desired.Valid(new VirtualMachine(name, Optional.empty(), name + ".qcow2", RunStrategy.Always,
                OptionalInt.empty(), OptionalLong.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                OptionalLong.empty(), Optional.empty(), Optional.empty()), "sha256:" + name, "standard", 1, 1L << 30);
    }

    private static ObservedDomain domain(String blade, String vm, DomainState state) {
        return new ObservedDomain(blade, "uuid-" + vm, "alice-" + vm, state,
                state.isActive() ? StopReason.UNKNOWN : StopReason.SHUTDOWN, PlannerFixture.metadata("sha256:r"),
                Optional.empty(), false);
    }

    private static VmStatus status(String vm, Phase phase, String blade) {
        return new VmStatus(vm, new VmStatus.Owner("alice", 1001), phase, "", List.of(), blade, null, null, null,
                null, List.of(), 1, "1Gi", "standard", vm + ".qcow2", null, "sha256:" + vm, null);
    }

    private AdmissionPlannerTest file(String name, long age, ObservedDomain... domains) {
        vms.add(new AdmissionPlanner.Vm(name, valid(name), age, true, Optional.empty(), List.of(domains)));
        return this;
    }

    private Map<String, Admission.Verdict> admit(Map<String, VmStatus> away) {
        return AdmissionPlanner.admit(vms, away, course -> course.isPresent() ? new QuotaLimits(1, 1, 8, 8L << 30)
                : ONE_RUNNING);
    }

    @Test
    void theOlderFileRunsAndTheNewerWaitsWithTheNumbers() {
        file("web", 1).file("db", 2);
        Map<String, Admission.Verdict> verdicts = admit(Map.of());
        assertTrue(verdicts.get("web").mayRun());
        assertTrue(verdicts.get("db").admitted());
        assertFalse(verdicts.get("db").mayRun());
        assertEquals("1 of 1 running VMs in use: web; stop one (ie-virsh destroy NAME) and this one starts",
                verdicts.get("db").message());
    }

    @Test
    void aVmRunningOnOneOfTwoBladesHoldsItsRunningSlot() {
        file("db", 1).file("web", 2, domain("b1", "web", DomainState.SHUTOFF), domain("b2", "web", DomainState.PAUSED));
        Map<String, Admission.Verdict> verdicts = admit(Map.of());
        assertTrue(verdicts.get("web").mayRun(), "a running VM keeps running");
        assertFalse(verdicts.get("db").mayRun(), "the older file waits: the slot is taken");
    }

    @Test
    void aBrokenFileWhoseDomainRunsHoldsItsSlotAndGetsNoVerdict() {
        file("db", 1);
        vms.add(new AdmissionPlanner.Vm("web", new Desired.Invalid(List.of(Problem.ofFile("web.yaml", "bad")),
                Optional.empty(), "yaml"), Long.MIN_VALUE, false, Optional.empty(),
                List.of(domain("b1", "web", DomainState.RUNNING))));
        Map<String, Admission.Verdict> verdicts = admit(Map.of());
        assertEquals(Set.of("db"), verdicts.keySet());
        assertFalse(verdicts.get("db").mayRun());
    }

    @Test
    void aVmAwayWithoutAFileHoldsARunningSlot() {
        file("db", 1);
        Map<String, Admission.Verdict> verdicts = admit(Map.of("web", status("web", Phase.Running, "b2")));
        assertFalse(verdicts.get("db").mayRun());
        assertTrue(verdicts.get("db").message().contains("web"), verdicts.get("db").message());
    }

    @Test
    void aVmAwayWithItsFileKeepsItsPlaceAndRuns() {
        file("db", 1).file("web", 2);
        Map<String, Admission.Verdict> verdicts = admit(Map.of("web", status("web", Phase.Running, "b2")));
        assertTrue(verdicts.get("web").mayRun());
        assertFalse(verdicts.get("db").mayRun());
    }

    @Test
    void aCourseVmCountsAgainstItsCourseNotTheStudentsOwnQuota() {
        file("web", 1, domain("b1", "web", DomainState.RUNNING));
        vms.add(new AdmissionPlanner.Vm("net101-router", valid("net101-router"), 2, true, Optional.of(NET), List.of()));
        Map<String, Admission.Verdict> verdicts = admit(Map.of());
        assertTrue(verdicts.get("net101-router").mayRun());
        assertEquals(Optional.of("net101"), verdicts.get("net101-router").course());
        assertEquals(Optional.empty(), verdicts.get("web").course());
    }

    @Test
    void onlyAStatusOnABladeThatDoesNotAnswerInAPhaseThatMayRunIsAway() {
        Map<String, VmStatus> last = Map.of(
                "a", status("a", Phase.Running, "b2"),
                "b", status("b", Phase.Stopped, "b2"),
                "c", status("c", Phase.Running, "b1"),
                "d", status("d", Phase.Starting, "b2"),
                "e", status("e", Phase.Pending, null),
                "f", status("f", Phase.Running, "b2"));
        assertEquals(Set.of("a", "d"), AdmissionPlanner.away(last, Set.of("f"), List.of("b2")).keySet());
    }
}
