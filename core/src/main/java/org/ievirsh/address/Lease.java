package org.ievirsh.address;

import java.time.Instant;
import java.util.Optional;

/**
 * Lease is one address a DHCP server gave a MAC, until {@code ends}
 * (empty: an infinite lease).
 */
public record Lease(String mac, String ip, Optional<Instant> ends) {

    /** True while the lease holds at {@code now}. */
    public boolean activeAt(Instant now) {
        return ends.isEmpty() || ends.get().isAfter(now);
    }
}
