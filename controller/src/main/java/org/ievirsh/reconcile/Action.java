package org.ievirsh.reconcile;

/** Action is one libvirt call the planner asks for, on one blade. */
public sealed interface Action {

    String blade();

    /** Define (or redefine) a domain from rendered XML. */
    record Define(String blade, String uuid, String xml) implements Action {
    }

    /**
     * Start a defined domain.
     *
     * @param afterFailure it stopped without being asked to: counts towards crash-loop back-off
     */
    record Start(String blade, String uuid, boolean afterFailure) implements Action {
    }

    /** Ask the guest to power off (ACPI). */
    record Shutdown(String blade, String uuid) implements Action {
    }

    /** Force the domain off, after the grace period. */
    record Destroy(String blade, String uuid) implements Action {
    }

    /** Remove the definition; never the image. */
    record Undefine(String blade, String uuid) implements Action {
    }
}
