package org.ievirsh.api.v1;

/** RunStrategy says when a VM should run, as KubeVirt's field of the same name. */
public enum RunStrategy {
    /** Always keeps it running: it is started again whenever it stops. */
    Always,
    /** RerunOnFailure starts it again after a crash, not after the guest powered itself off. */
    RerunOnFailure,
    /** Halted keeps it stopped: ACPI shutdown, forced off after the grace period. */
    Halted
}
