package org.ievirsh.placement;

/**
 * BladeRoom is what one blade can still take: capacity minus reserved minus
 * the vCPUs and memory of the VMs placed there.
 *
 * @param reachable connected, and listed at least once since the controller started
 */
public record BladeRoom(String name, boolean schedulable, boolean reachable, int freeVcpus, long freeMemoryBytes,
                        int vms) {
}
