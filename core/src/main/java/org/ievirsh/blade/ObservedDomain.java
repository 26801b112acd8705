package org.ievirsh.blade;

import java.util.Optional;
import org.ievirsh.libvirt.DomainState;
import org.ievirsh.libvirt.StopReason;
import org.ievirsh.template.DomainMetadata;

/**
 * ObservedDomain is one managed domain as last seen on a blade.
 *
 * @param config         the metadata of its persistent definition
 * @param liveRenderHash the render hash it is running with, when it runs
 * @param drifted        its persistent definition was changed by someone else and must be put back
 */
public record ObservedDomain(String blade, String uuid, String name, DomainState state, StopReason stopReason,
                             DomainMetadata config, Optional<String> liveRenderHash, boolean drifted) {

    public boolean isActive() {
        return state.isActive();
    }

    public ObservedDomain withState(DomainState newState, StopReason reason) {
        return new ObservedDomain(blade, uuid, name, newState, reason, config, liveRenderHash, drifted);
    }

    // Written out: a full listing compares every domain of a blade with what it knew, and the generated record
    // method (method handles) was most of that listing's cost, and of what the JIT compiled again for it.
    @Override
    public boolean equals(Object o) {
        return this == o || o instanceof ObservedDomain d && state == d.state && stopReason == d.stopReason
                && drifted == d.drifted && uuid.equals(d.uuid) && (config == d.config || config.equals(d.config))
                && liveRenderHash.equals(d.liveRenderHash) && name.equals(d.name) && blade.equals(d.blade);
    }

    @Override
    public int hashCode() {
        return uuid.hashCode() * 31 + state.hashCode();
    }
}
