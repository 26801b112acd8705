package org.ievirsh.reconcile;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.ievirsh.api.v1.Reasons;
import org.junit.jupiter.api.Test;

/** CallOutcomesTest: what each kind of call that did not go through means, as a table. */
class CallOutcomesTest {

    @Test
    void eachKindOfFailedCallMeansOneThing() {
        assertEquals(new CallOutcomes.Meaning.Again(CallOutcomes.AGAIN), CallOutcomes.of(Executor.Kind.BUSY, "x"),
                "a busy blade: again in a moment, no failure");
        assertEquals(new CallOutcomes.Meaning.Failed(new VmFacts.Failure("the image is in use by another QEMU (the"
                        + " lock manager refused the start; it stays stopped): Lockspace resource 'web.qcow2' is locked",
                        Reasons.IMAGE_LOCKED, true)),
                CallOutcomes.of(Executor.Kind.LOCKED, "Lockspace resource 'web.qcow2' is locked"));
        assertEquals(new CallOutcomes.Meaning.Failed(new VmFacts.Failure("bad XML", Reasons.LIBVIRT_ERROR, false)),
                CallOutcomes.of(Executor.Kind.REFUSED, "bad XML"), "a refused definition: no retry until it changes");
        assertEquals(new CallOutcomes.Meaning.Failed(new VmFacts.Failure("boom", Reasons.LIBVIRT_ERROR, true)),
                CallOutcomes.of(Executor.Kind.FAILED, "boom"));
        assertEquals(new CallOutcomes.Meaning.Failed(new VmFacts.Failure("blade b1 is unreachable",
                Reasons.LIBVIRT_ERROR, true)), CallOutcomes.of(Executor.Kind.UNREACHABLE, "blade b1 is unreachable"));
    }
}
