package org.ievirsh.quota;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.ControllerConfig.Limits;
import org.junit.jupiter.api.Test;

class AdmissionTest {
    private static final long GIB = 1L << 30;
    private static final QuotaLimits FOUR = new QuotaLimits(4, 4, 8, 8 * GIB);

    private static Admission.Candidate vm(String name, long age) {
        return new Admission.Candidate(name, 1, GIB, age, false, true, false);
    }

    private static Set<String> admitted(Map<String, Admission.Verdict> verdicts) {
        Set<String> names = new TreeSet<>();
        verdicts.forEach((name, v) -> {
            if (v.admitted()) {
                names.add(name);
            }
        });
        return names;
    }

    @Test
    void theOldestFilesAreAdmittedAndTheRestWaitWithTheNumbers() {
        List<Admission.Candidate> files = List.of(vm("e", 5), vm("a", 1), vm("c", 3), vm("b", 2), vm("d", 4));
        Map<String, Admission.Verdict> verdicts = Admission.decide(files, FOUR);
        assertEquals(Set.of("a", "b", "c", "d"), admitted(verdicts));
        assertEquals("over quota: 4 of 4 VMs in use: a, b, c, d; remove a VM file or ask an admin for more",
                verdicts.get("e").message());
    }

    @Test
    void theSameFilesInAnyOrderOfArrivalGiveTheSameAdmittedSet() {
        List<Admission.Candidate> files = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            files.add(vm("vm" + i, 100 - i * 3L));
        }
        Set<String> first = admitted(Admission.decide(files, FOUR));
        Random random = new Random(42);
        for (int round = 0; round < 50; round++) {
            Collections.shuffle(files, random);
            assertEquals(first, admitted(Admission.decide(files, FOUR)));
        }
        assertEquals(Set.of("vm5", "vm6", "vm7", "vm8"), first);
    }

    @Test
    void equalAgesAreBrokenByName() {
        assertEquals(Set.of("a", "b"), admitted(Admission.decide(List.of(vm("c", 1), vm("b", 1), vm("a", 1)),
                new QuotaLimits(2, 2, 8, 8 * GIB))));
    }

    @Test
    void aLoweredQuotaEvictsNothingAndNewFilesWait() {
        List<Admission.Candidate> files = List.of(
                new Admission.Candidate("a", 1, GIB, 10, true, true, true),
                new Admission.Candidate("b", 1, GIB, 11, true, true, true),
                new Admission.Candidate("c", 1, GIB, 12, true, true, true),
                vm("new", 1));
        Map<String, Admission.Verdict> verdicts = Admission.decide(files, new QuotaLimits(2, 4, 8, 8 * GIB));
        assertEquals(Set.of("a", "b", "c"), admitted(verdicts));
        assertTrue(verdicts.get("a").message().contains("quota was lowered to 2"), verdicts.get("a").message());
        assertFalse(verdicts.get("new").admitted());
    }

    @Test
    void vcpusAndMemoryAreLimitsToo() {
        Map<String, Admission.Verdict> byCpu = Admission.decide(List.of(
                new Admission.Candidate("big", 6, GIB, 1, false, true, false),
                new Admission.Candidate("more", 4, GIB, 2, false, true, false),
                new Admission.Candidate("small", 2, GIB, 3, false, true, false)), FOUR);
        assertEquals(Set.of("big", "small"), admitted(byCpu));
        assertEquals("over quota: more needs 4 vCPUs, and 6 of 8 vCPUs are in use by big; remove a VM file or ask"
                + " an admin for more", byCpu.get("more").message());

        Map<String, Admission.Verdict> byMemory = Admission.decide(List.of(
                new Admission.Candidate("a", 1, 6 * GIB, 1, false, true, false),
                new Admission.Candidate("b", 1, 4 * GIB, 2, false, true, false)), FOUR);
        assertEquals(Set.of("a"), admitted(byMemory));
        assertTrue(byMemory.get("b").message().contains("b needs 4GiB of memory, and 6GiB of 8GiB are in use"),
                byMemory.get("b").message());
    }

    @Test
    void runningVmsAreLimitedSeparatelyAndRunningOnesKeepRunning() {
        List<Admission.Candidate> files = List.of(
                new Admission.Candidate("a", 1, GIB, 1, true, true, false),
                new Admission.Candidate("b", 1, GIB, 2, true, true, false),
                new Admission.Candidate("c", 1, GIB, 3, true, true, true),
                new Admission.Candidate("halted", 1, GIB, 4, true, false, false));
        Map<String, Admission.Verdict> verdicts = Admission.decide(files, new QuotaLimits(4, 2, 8, 8 * GIB));
        assertTrue(verdicts.get("c").mayRun(), "the running one keeps running");
        assertTrue(verdicts.get("a").mayRun(), "then the oldest");
        assertFalse(verdicts.get("b").mayRun());
        assertEquals("2 of 2 running VMs in use: c, a; stop one (ie-virsh destroy NAME) and this one starts",
                verdicts.get("b").message());
        assertFalse(verdicts.get("halted").mayRun());
        assertEquals(4, admitted(verdicts).size());
    }

    @Test
    void limitsComeFromDefaultThenTheLargestGroupThenTheUser() {
        ControllerConfig.Quota quota = new ControllerConfig.Quota(
                new Limits(Optional.of(4), Optional.of(2), Optional.empty(), Optional.empty(), Optional.empty()),
                Map.of("staff", new Limits(Optional.of(10), Optional.empty(), Optional.empty(), Optional.empty(),
                                Optional.empty()),
                        "tutors", new Limits(Optional.of(6), Optional.of(5), Optional.empty(), Optional.empty(),
                                Optional.of(20L * GIB))),
                Map.of("e145701", new Limits(Optional.of(6), Optional.empty(), Optional.empty(), Optional.empty(),
                        Optional.empty())));
        assertEquals(new QuotaLimits(4, 2, 8, 8 * GIB), QuotaLimits.resolve(quota, "anna", List.of("students")));
        assertEquals(new QuotaLimits(10, 5, 8, 8 * GIB, 20 * GIB), QuotaLimits.resolve(quota, "bert",
                List.of("staff", "tutors")), "the disk quota of a group, like the others");
        assertEquals(new QuotaLimits(6, 5, 8, 8 * GIB, 20 * GIB), QuotaLimits.resolve(quota, "e145701",
                List.of("staff", "tutors")));
        assertEquals(new QuotaLimits(6, 2, 8, 8 * GIB), QuotaLimits.resolve(quota, "e145701", List.of()));
    }

    @Test
    void aVmBeingStoppedStillCountsAsRunningUntilItsDomainIsOff() {
        QuotaLimits oneRunning = new QuotaLimits(4, 1, 8, 8 * GIB);
        Admission.Candidate stopping = new Admission.Candidate("a", 1, GIB, 1, true, false, true);
        Admission.Candidate waiting = new Admission.Candidate("b", 1, GIB, 2, true, true, false);
        Map<String, Admission.Verdict> verdicts = Admission.decide(List.of(stopping, waiting), oneRunning);
        assertFalse(verdicts.get("a").mayRun(), "it is being stopped");
        assertFalse(verdicts.get("b").mayRun(), "a still runs");
        assertTrue(verdicts.get("b").message().contains("1 of 1 running VMs in use: a"), verdicts.get("b").message());
    }
}
