package org.ievirsh.api.v1;

/** Phase is the one word that sums up a VM, as KubeVirt's printableStatus. */
public enum Phase {
    Pending, Starting, Running, Stopping, Stopped, Invalid, QuotaExceeded, ImageRejected, Unschedulable,
    CrashLoopBackOff, Error, Unknown, Terminating, Migrating, Expired
}
