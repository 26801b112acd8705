package org.ievirsh.reconcile;

import java.time.Duration;
import java.util.Optional;

/**
 * Result is how a reconcile ended, as a value the engine acts on: done,
 * look again after a delay, or failed (retried with back-off).
 */
public record Result(Kind kind, Optional<Duration> after, String error) {

    /** Kind of ending. */
    public enum Kind { DONE, REQUEUE, ERROR }

    public static Result done() {
        return new Result(Kind.DONE, Optional.empty(), "");
    }

    public static Result requeueAfter(Duration after) {
        return new Result(Kind.REQUEUE, Optional.of(after), "");
    }

    public static Result error(String message) {
        return new Result(Kind.ERROR, Optional.empty(), message);
    }
}
