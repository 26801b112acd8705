package org.ievirsh.libvirt;

/** DomainUsage is what a running domain consumes: CPU time and resident memory. */
public record DomainUsage(String uuid, long cpuNanos, long memoryBytes) {
}
