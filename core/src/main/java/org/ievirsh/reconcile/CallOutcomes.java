package org.ievirsh.reconcile;

import java.time.Duration;
import org.ievirsh.api.v1.Reasons;

/**
 * CallOutcomes says what a call that did not go through means for the VM,
 * apart from making calls (a pure table, tested on its own): a blade too
 * busy for it is asked again in a moment, no failure; the lock manager's
 * refusal is the student's image in use by another QEMU, retried with
 * back-off; libvirt refusing the definition itself is final until something
 * changes; anything else is retried with back-off.
 */
final class CallOutcomes {
    /** AGAIN is how soon a VM whose blade was too busy for its call is tried again. */
    static final Duration AGAIN = Duration.ofMillis(200);
    /** SOON is how soon a VM with calls left after its last round is reconciled again. */
    static final Duration SOON = Duration.ofMillis(100);

    private CallOutcomes() {
    }

    /** A call not made or refused: look again after {@code after}, or the VM's pass failed. */
    sealed interface Meaning {
        record Again(Duration after) implements Meaning {
        }

        record Failed(VmFacts.Failure failure) implements Meaning {
        }
    }

    /** What a call of kind {@code kind} that did not go through means; {@code detail} is libvirt's message. */
    static Meaning of(Executor.Kind kind, String detail) {
        return switch (kind) {
            case BUSY -> new Meaning.Again(AGAIN);
            case LOCKED -> new Meaning.Failed(new VmFacts.Failure("the image is in use by another QEMU (the lock"
                    + " manager refused the start; it stays stopped): " + detail, Reasons.IMAGE_LOCKED, true));
            case REFUSED -> new Meaning.Failed(new VmFacts.Failure(detail, Reasons.LIBVIRT_ERROR, false));
            case FAILED, UNREACHABLE -> new Meaning.Failed(new VmFacts.Failure(detail, Reasons.LIBVIRT_ERROR, true));
        };
    }
}
