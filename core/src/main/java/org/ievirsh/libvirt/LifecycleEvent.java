package org.ievirsh.libvirt;

/**
 * LifecycleEvent is a domain event as libvirt sends it, reduced to what the
 * controller needs: which domain, and what kind of change.
 *
 * @param stopReason for STOPPED events, why; else UNKNOWN
 */
public record LifecycleEvent(String blade, String uuid, String name, Kind kind, StopReason stopReason) {

    /** Kind of change. */
    public enum Kind { DEFINED, UNDEFINED, STARTED, STOPPED, SUSPENDED, RESUMED, SHUTDOWN, CRASHED, AGENT_CONNECTED,
        OTHER }
}
