package org.ievirsh.reconcile;

import java.util.Optional;

/**
 * DrainPlanner says, purely, how a VM leaves a draining blade this pass: it
 * is already on its way, it needs room elsewhere now, or it waits (its last
 * move failed a moment ago, every migration slot is taken). A VM that is
 * not on a draining blade that answers, or has no domain to move, stays.
 */
final class DrainPlanner {
    private DrainPlanner() {
    }

    /** How one VM leaves its blade. */
    sealed interface Leave {
        /** Nothing to move: not on a draining blade, or nothing that could be made elsewhere. */
        record Stay() implements Leave {
        }

        /** A move under way, to {@code to}. */
        record Moving(String to) implements Leave {
        }

        /** It goes now: room is to be reserved elsewhere. */
        record Room() implements Leave {
        }

        /** It waits, and the student is told why. */
        record Wait(String why) implements Leave {
        }
    }

    /**
     * {@code movingTo}: the blade of a move under way; {@code onDrainingBlade}: its domain is on a blade being
     * drained that answers; {@code movable}: its file is valid and rendered; {@code lastFailure}: what a recent
     * failed move said; {@code freeSlots}: the migration slots this pass has left.
     */
    static Leave leave(Optional<String> movingTo, boolean onDrainingBlade, boolean movable,
                       Optional<String> lastFailure, int freeSlots) {
        if (movingTo.isPresent()) {
            return new Leave.Moving(movingTo.get());
        }
        if (!onDrainingBlade || !movable) {
            return new Leave.Stay();
        }
        if (lastFailure.isPresent()) {
            return new Leave.Wait("its last move failed (" + lastFailure.get() + "); it is tried again within "
                    + org.ievirsh.blade.Migrations.RETRY_AFTER.toMinutes() + " minutes");
        }
        if (freeSlots <= 0) {
            return new Leave.Wait("it waits for a free migration slot (migration.parallel)");
        }
        return new Leave.Room();
    }
}
