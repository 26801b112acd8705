package org.ievirsh.libvirt;

/**
 * DomainSummary is one domain as a listing shows it: identity and state.
 * {@code stopReason} is meaningful when the state is SHUTOFF.
 */
public record DomainSummary(String uuid, String name, DomainState state, StopReason stopReason) {
}
