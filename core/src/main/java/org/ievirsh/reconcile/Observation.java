package org.ievirsh.reconcile;

import java.util.List;
import org.ievirsh.blade.ObservedDomain;

/** Observation is what the blades show of one VM. */
public sealed interface Observation {

    /** No blade has a domain of this VM. */
    record None() implements Observation {
    }

    /** One domain, on a blade that is reachable ({@code bladeUp}) or not. */
    record Found(ObservedDomain domain, boolean bladeUp) implements Observation {
    }

    /**
     * The VM's only domain is on a blade that has been unreachable for
     * {@code bladeDown.after}, and the admin chose {@code restartElsewhere}:
     * it is started on another blade (the lock manager refuses if its old
     * QEMU still holds the disk).
     */
    record Stranded(ObservedDomain domain, java.time.Duration downFor) implements Observation {
    }

    /**
     * With {@code restartElsewhere}: the VM runs on one blade and a blade that
     * came back still has its old definition, shut off: that one is removed.
     * Also the VM shut off on several blades (a stopped VM's move cut short):
     * {@code live} is the one kept.
     */
    record Stale(ObservedDomain live, List<ObservedDomain> stale) implements Observation {
    }

    /** Something an admin must decide: the VM on two blades, or its domain name taken. */
    record Conflict(String message) implements Observation {
    }
}
