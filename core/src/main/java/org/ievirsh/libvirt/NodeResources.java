package org.ievirsh.libvirt;

/** NodeResources is what a blade reports of itself: CPUs and memory. */
public record NodeResources(int cpus, long memoryBytes) {
}
