package org.ievirsh.libvirt;

/**
 * HypervisorException is a failed libvirt call, sorted into the few kinds
 * the controller acts on differently.
 */
public final class HypervisorException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Kind of failure. */
    public enum Kind {
        /** NOT_FOUND: the domain is gone. */
        NOT_FOUND,
        /** NO_METADATA: the domain carries no metadata element in that namespace. */
        NO_METADATA,
        /** INVALID_OPERATION: refused in the domain's state (starting a running domain). */
        INVALID_OPERATION,
        /** CONNECTION_LOST: the blade must be reconnected before anything else is tried there. */
        CONNECTION_LOST,
        /** REFUSED: libvirt refuses the domain's definition itself (bad XML, a configuration it cannot run). */
        REFUSED,
        /** IN_USE: something else holds what was asked for (another console session; the lock manager's lease). */
        IN_USE,
        OTHER
    }

    private final Kind kind;
    private final boolean definedFirst;

    public HypervisorException(Kind kind, String message) {
        this(kind, message, false);
    }

    private HypervisorException(Kind kind, String message, boolean definedFirst) {
        super(message);
        this.kind = kind;
        this.definedFirst = definedFirst;
    }

    /** The failure of a start that came after its define succeeded: the domain exists now. */
    public HypervisorException afterDefine() {
        return new HypervisorException(kind, getMessage(), true);
    }

    /** True when the domain was defined before this failure (see {@link Hypervisor#defineAndStart}). */
    public boolean definedFirst() {
        return definedFirst;
    }

    public static HypervisorException notFound(String what) {
        return new HypervisorException(Kind.NOT_FOUND, what + " does not exist");
    }

    public static HypervisorException disconnected(String blade) {
        return new HypervisorException(Kind.CONNECTION_LOST, "blade " + blade + " is not connected");
    }

    public Kind kind() {
        return kind;
    }

    public boolean isNotFound() {
        return kind == Kind.NOT_FOUND;
    }

    public boolean isConnectionLost() {
        return kind == Kind.CONNECTION_LOST;
    }

    /** True when libvirt refused the definition: trying again cannot help until it changes. */
    public boolean isDefinitionRefused() {
        return kind == Kind.REFUSED;
    }

    public boolean isInvalidOperation() {
        return kind == Kind.INVALID_OPERATION;
    }
}
