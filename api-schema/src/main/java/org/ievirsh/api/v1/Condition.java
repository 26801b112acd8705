package org.ievirsh.api.v1;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * Condition is one Kubernetes-style condition of a VM.
 *
 * @param status "True", "False" or "Unknown"
 * @param reason a CamelCase word from {@link Reasons}
 * @param lastTransitionTime when {@code status} last changed (ISO-8601, UTC)
 *
 * <p>{@link VmStatus#sameAs} compares every field but the time by name: a new field goes there too.
 */
@JsonPropertyOrder({"type", "status", "reason", "message", "lastTransitionTime"})
public record Condition(String type, String status, String reason, String message, String lastTransitionTime) {

    /** Types of conditions, in the order the status lists them. */
    public static final String VALID = "Valid";
    public static final String ADMITTED = "Admitted";
    public static final String IMAGE_READY = "ImageReady";
    public static final String SCHEDULED = "Scheduled";
    public static final String DEFINED = "Defined";
    public static final String READY = "Ready";
    public static final String RESTART_REQUIRED = "RestartRequired";
    /** EXPIRING: only for a VM with an end date; True within the admin's warnBefore of it. */
    public static final String EXPIRING = "Expiring";
    /** CONSOLE_OPEN: only while an instructor of the VM's course has its console open (naming who). */
    public static final String CONSOLE_OPEN = "ConsoleOpen";

    public static Condition of(String type, boolean status, String reason, String message) {
        return new Condition(type, status ? "True" : "False", reason, message, null);
    }

    public static Condition unknown(String type, String reason, String message) {
        return new Condition(type, "Unknown", reason, message, null);
    }

    public Condition at(String time) {
        return new Condition(type, status, reason, message, time);
    }
}
