package org.ievirsh.libvirt;

/** DomainState is libvirt's virDomainState, in the order of its numbers. */
public enum DomainState {
    NOSTATE, RUNNING, BLOCKED, PAUSED, SHUTDOWN, SHUTOFF, CRASHED, PMSUSPENDED;

    /** The state with libvirt's number {@code code}; NOSTATE for numbers we do not know. */
    public static DomainState of(int code) {
        DomainState[] all = values();
        return code >= 0 && code < all.length ? all[code] : NOSTATE;
    }

    /** True while a QEMU process exists for the domain (running, paused, shutting down). */
    public boolean isActive() {
        return this != SHUTOFF && this != CRASHED;
    }
}
