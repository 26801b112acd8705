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
}
