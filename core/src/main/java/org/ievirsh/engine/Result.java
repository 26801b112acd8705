package org.ievirsh.engine;

import java.time.Duration;

/**
 * Result is how a reconcile ended, as a value the engine acts on
 * (controller-runtime's Result and error in one): done, look again after a
 * delay, or failed. A failure is retried with the key's back-off, unless it
 * is terminal: then it is counted and reported, and the key waits for
 * something to change (an event adds it again).
 */
public sealed interface Result {

    /** Nothing more to do until something changes. */
    record Done() implements Result {
    }

    /** Look again after {@code after}, even if nothing changes (a transition under way). */
    record Requeue(Duration after) implements Result {
    }

    /** It failed: {@code reason} says why; {@code retry} false for a failure that retrying cannot mend. */
    record Failed(String reason, boolean retry) implements Result {
    }

    Result DONE = new Done();

    static Result done() {
        return DONE;
    }

    static Result requeueAfter(Duration after) {
        return new Requeue(after);
    }

    /** A failure retried with back-off. */
    static Result error(String reason) {
        return new Failed(reason, true);
    }

    /** A failure that waits for a change (counted, not retried). */
    static Result terminal(String reason) {
        return new Failed(reason, false);
    }
}
