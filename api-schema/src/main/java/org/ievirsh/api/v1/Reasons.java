package org.ievirsh.api.v1;

/** Reasons are the CamelCase words of conditions; they are part of the contract with scripts. */
public final class Reasons {
    public static final String SPEC_VALID = "SpecValid";
    public static final String INVALID_SPEC = "InvalidSpec";
    public static final String WITHIN_QUOTA = "WithinQuota";
    public static final String QUOTA_EXCEEDED = "QuotaExceeded";
    public static final String IMAGE_ACCEPTED = "ImageAccepted";
    public static final String IMAGE_IN_USE = "ImageInUse";
    public static final String INSPECTING = "Inspecting";
    public static final String INSECURE_IMAGE = "InsecureImage";
    public static final String INSPECTION_FAILED = "InspectionFailed";
    public static final String PLACED = "Placed";
    public static final String UNSCHEDULABLE = "Unschedulable";
    public static final String WAITING_FOR_BLADE = "WaitingForBlade";
    public static final String DOMAIN_DEFINED = "DomainDefined";
    public static final String NOT_DEFINED = "NotDefined";
    public static final String RUNNING = "Running";
    public static final String STARTING = "Starting";
    public static final String STOPPING = "Stopping";
    public static final String HALTED = "Halted";
    public static final String GUEST_POWERED_OFF = "GuestPoweredOff";
    public static final String RUNNING_QUOTA_EXCEEDED = "RunningQuotaExceeded";
    public static final String CRASH_LOOP_BACK_OFF = "CrashLoopBackOff";
    public static final String TOO_MANY_STARTS = "TooManyStarts";
    public static final String BLADE_UNREACHABLE = "BladeUnreachable";
    /** NSS cannot name the owner of the VM's directory now (LDAP down or slow): nothing of theirs is touched. */
    public static final String ACCOUNT_UNRESOLVED = "AccountUnresolved";
    public static final String DEFINITION_CHANGED = "DefinitionChanged";
    public static final String UP_TO_DATE = "UpToDate";
    public static final String CONFLICT = "Conflict";
    public static final String LIBVIRT_ERROR = "LibvirtError";
    public static final String NOT_EVALUATED = "NotEvaluated";
    public static final String FILE_REMOVED = "FileRemoved";
    public static final String EXPIRES_LATER = "ExpiresLater";
    public static final String EXPIRES_SOON = "ExpiresSoon";
    public static final String EXPIRED = "Expired";
    public static final String IMAGE_LOCKED = "ImageLocked";
    public static final String MIGRATING = "Migrating";
    public static final String MIGRATION_FAILED = "MigrationFailed";
    /** The base image a VM's disk comes from is missing, or breaks a rule of the catalog: it serves no VM. */
    public static final String BASE_IMAGE_REJECTED = "BaseImageRejected";
    /** The base image changed since the VM's disk was made from it: the VM is not started again. */
    public static final String BASE_IMAGE_CHANGED = "BaseImageChanged";
    /** The file at the VM's image name is not an overlay of the base the VM file names. */
    public static final String NOT_AN_OVERLAY_OF_BASE = "NotAnOverlayOfBase";
    /** The VM's disk is being made from its base. */
    public static final String MAKING_DISK = "MakingDisk";
    /** An instructor of the VM's course has its console open. */
    public static final String INSTRUCTOR_CONSOLE = "InstructorConsole";

    private Reasons() {
    }
}
