package org.ievirsh.reconcile;

import java.util.Optional;

/**
 * PlacementPlanner decides whether a VM needs room on a blade now: none (it
 * has a domain, or cannot be made), wait (a blade that does not answer may
 * hold it), or place it. It is pure; the gatherer then reserves or releases
 * the room in one call.
 */
final class PlacementPlanner {

    private PlacementPlanner() {
    }

    /** What a VM needs of the fleet: nothing, to wait with a reason, or room on a blade. */
    sealed interface Need {
        record Nothing() implements Need {
        }

        record Wait(String why) implements Need {
        }

        record Room() implements Need {
        }
    }

    /**
     * What the VM needs: a VM that cannot be made (its file, quota or image
     * say no), has a domain or is in conflict, or whose domain name another
     * student's domain has, needs no room; a VM stranded on a dead blade
     * ({@code restartElsewhere}) is placed elsewhere; any other waits while
     * {@link #hold} says so.
     */
    static Need need(boolean usable, Observation seen, boolean nameTaken, VmFacts.Blades blades) {
        return mayNeedRoom(usable, seen, nameTaken) ? where(seen, blades) : new Need.Nothing();
    }

    /** False for a VM that needs no room whatever the blades say (see {@link #need}). */
    static boolean mayNeedRoom(boolean usable, Observation seen, boolean nameTaken) {
        return usable && isNew(seen) && !nameTaken;
    }

    /** Of a VM that {@link #mayNeedRoom}: room now, or a wait while {@link #hold} says so. */
    static Need where(Observation seen, VmFacts.Blades blades) {
        Optional<String> hold = seen instanceof Observation.Stranded ? Optional.empty() : hold(blades);
        return hold.<Need>map(Need.Wait::new).orElseGet(Need.Room::new);
    }

    /**
     * True when the blades show no domain of the VM that it is to keep: none,
     * or only one on a blade dead for long enough ({@code restartElsewhere}).
     * A VM in conflict, or with stale copies beside the one kept, is not new.
     */
    static boolean isNew(Observation seen) {
        return seen instanceof Observation.None || seen instanceof Observation.Stranded;
    }

    /**
     * Why a VM without a domain must not be placed yet: a blade that has not
     * been listed may hold it. During the startup grace every unlisted blade
     * holds placements back; after it, only the blade the VM's last status
     * names does (a blade that stays dead must not stop every new VM).
     */
    static Optional<String> hold(VmFacts.Blades blades) {
        if (blades.unreachable().isEmpty()) {
            return Optional.empty();
        }
        if (blades.lastBlade().isPresent() && blades.unreachable().contains(blades.lastBlade().get())) {
            return Optional.of("the VM was last on blade " + blades.lastBlade().get() + ", which does not answer now;"
                    + " it is not recreated elsewhere (its disk would be opened twice)");
        }
        if (!blades.unlisted().isEmpty() && blades.startupGrace()) {
            return Optional.of("waiting for blade " + String.join(", ", blades.unlisted())
                    + " to answer: the VM may already exist there");
        }
        return Optional.empty();
    }
}
