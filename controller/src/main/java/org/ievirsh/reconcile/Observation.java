package org.ievirsh.reconcile;

import org.ievirsh.blade.ObservedDomain;

/** Observation is what the blades show of one VM. */
public sealed interface Observation {

    /** No blade has a domain of this VM. */
    record None() implements Observation {
    }

    /** One domain, on a blade that is reachable ({@code bladeUp}) or not. */
    record Found(ObservedDomain domain, boolean bladeUp) implements Observation {
    }

    /** Something an admin must decide: the VM on two blades, or its domain name taken. */
    record Conflict(String message) implements Observation {
    }
}
