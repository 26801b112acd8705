package org.ievirsh.libvirt;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * LibvirtRecords reads what libvirt's bulk statistics and interface
 * addresses say in the controller's terms. It is pure: the calls are made
 * by {@link LibvirtHypervisor}.
 */
final class LibvirtRecords {

    private LibvirtRecords() {
    }

    /** A domain's state (and why it is off) from its {@code state.*} statistics. */
    static DomainSummary summary(VirtExtras.Record record) {
        DomainState state = DomainState.of(record.values().getOrDefault("state.state", 0).intValue());
        int reason = record.values().getOrDefault("state.reason", 0).intValue();
        StopReason stop = state == DomainState.SHUTOFF ? StopReason.fromStateReason(reason)
                : state == DomainState.CRASHED ? StopReason.CRASHED : StopReason.UNKNOWN;
        return new DomainSummary(record.uuid(), record.name(), state, stop);
    }

    /** A running domain's CPU time and memory (the balloon's RSS, else its current size; KiB to bytes). */
    static DomainUsage usage(VirtExtras.Record record) {
        Map<String, Number> v = record.values();
        Number rss = v.containsKey("balloon.rss") ? v.get("balloon.rss") : v.getOrDefault("balloon.current", 0);
        return new DomainUsage(record.uuid(), v.getOrDefault("cpu.time", 0).longValue(), rss.longValue() * 1024);
    }

    /** The guest's NICs as libvirt reports them, with their IPv4 addresses only (what they say is checked later). */
    static List<Hypervisor.GuestNic> nics(java.util.Collection<org.libvirt.DomainInterface> reported) {
        List<Hypervisor.GuestNic> nics = new ArrayList<>();
        for (org.libvirt.DomainInterface nic : reported) {
            List<String> ipv4 = new ArrayList<>();
            if (nic.addrs != null) {
                for (org.libvirt.DomainInterface.InterfaceAddress a : nic.addrs) {
                    if (a.address instanceof java.net.Inet4Address) {
                        ipv4.add(a.address.getHostAddress());
                    }
                }
            }
            nics.add(new Hypervisor.GuestNic(nic.hwAddr == null ? "" : nic.hwAddr, ipv4));
        }
        return nics;
    }
}
