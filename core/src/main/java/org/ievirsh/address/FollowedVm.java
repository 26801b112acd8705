package org.ievirsh.address;

import java.time.Instant;
import java.util.List;
import org.ievirsh.api.v1.VmStatus;

/** FollowedVm is one running VM the address book follows, and what it learnt of it. */
final class FollowedVm {
    final String key;
    final String user;
    final String uuid;
    final String blade;
    final List<String> macs;
    final boolean agent;
    volatile Instant nextAsk;
    /**
     * True while the VM waits in the book's {@code soon}, at the tail
     * (started) or the head (its agent connected): an agent that connects
     * again and again is queued once, not once per event.
     */
    volatile boolean queued;
    volatile boolean urgent;
    /** True once the agent or ARP was asked about it. */
    volatile boolean asked;
    /** True while a question about it is in flight: one at a time. */
    volatile boolean asking;
    /** How many times in a row its agent made us wait without an answer, and when to ask it again. */
    volatile int muted;
    volatile Instant agentNext = Instant.EPOCH;
    volatile List<VmStatus.Address> fromAgent = List.of();
    volatile List<VmStatus.Address> fromArp = List.of();

    FollowedVm(String key, String user, String uuid, String blade, List<String> macs, boolean agent, Instant nextAsk) {
        this.key = key;
        this.user = user;
        this.uuid = uuid;
        this.blade = blade;
        this.macs = macs;
        this.agent = agent;
        this.nextAsk = nextAsk;
    }

    boolean same(String uuidNow, String bladeNow, List<String> macsNow, boolean agentNow) {
        return uuid.equals(uuidNow) && blade.equals(bladeNow) && macs.equals(macsNow) && agent == agentNow;
    }
}
