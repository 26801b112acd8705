package org.ievirsh.image;

import java.time.Duration;

/**
 * Inspection is what is known of the inside of a VM's image for the
 * planner: nothing yet, being looked at, clean, insecure (with what was found
 * and how to fix it), or not inspectable now. {@code enforced} says an insecure or
 * uninspected image must not start ({@code images.inspection: enforce}).
 *
 * @param retryAfter for {@link State#FAILED}: when the inspection is tried again
 */
public record Inspection(State state, boolean enforced, String message, Duration retryAfter) {

    /** NONE: nothing is known of this version and no look runs (one is needed before it starts). */
    public enum State { NONE, INSPECTING, CLEAN, INSECURE, FAILED }

    /**
     * True when the VM must not start now: before and while its image is
     * looked at (in every mode: QEMU and the look cannot share the file),
     * and, enforced, until the look found it clean.
     */
    public boolean blocksStart() {
        return state == State.NONE || state == State.INSPECTING || enforced && state != State.CLEAN;
    }

}
