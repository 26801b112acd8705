package org.ievirsh.libvirt;

/**
 * StopReason says why a domain is shut off. libvirt numbers it one way in the
 * state reason and another way in STOPPED events; both map here.
 */
public enum StopReason {
    /** UNKNOWN: never started since it was defined, or libvirt does not say. */
    UNKNOWN,
    /** SHUTDOWN: the guest powered itself off (or answered an ACPI request). */
    SHUTDOWN,
    /** DESTROYED: forced off from outside the guest. */
    DESTROYED,
    /** CRASHED: the guest or QEMU crashed. */
    CRASHED,
    MIGRATED,
    SAVED,
    /** FAILED: it failed to start, or QEMU died. */
    FAILED,
    OTHER;

    /** From {@code virDomainShutoffReason}, the reason of the SHUTOFF state. */
    public static StopReason fromStateReason(int reason) {
        switch (reason) {
            case 0: return UNKNOWN;
            case 1: return SHUTDOWN;
            case 2: return DESTROYED;
            case 3: return CRASHED;
            case 4: return MIGRATED;
            case 5: return SAVED;
            case 6: return FAILED;
            case 8: return CRASHED; // the daemon killed it
            default: return OTHER;
        }
    }

    /** From {@code virDomainEventStoppedDetailType}, the detail of a STOPPED event. */
    public static StopReason fromStoppedEvent(int detail) {
        switch (detail) {
            case 0: return SHUTDOWN;
            case 1: return DESTROYED;
            case 2: return CRASHED;
            case 3: return MIGRATED;
            case 4: return SAVED;
            case 5: return FAILED;
            default: return OTHER;
        }
    }
}
