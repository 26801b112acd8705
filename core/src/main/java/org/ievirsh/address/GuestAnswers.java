package org.ievirsh.address;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.libvirt.Hypervisor;

/**
 * GuestAnswers keeps of what a guest's agent (or a blade's ARP table) says
 * only what may be believed: addresses of the VM's own MACs (a guest may
 * name NICs of its own: a bridge, a container's), as valid IPv4 text, not
 * loopback, each (ip, mac) once, at most {@link #MAX_PER_VM}, in the order
 * of the VM's NICs. It is pure.
 */
final class GuestAnswers {
    /** At most this many addresses of one VM are kept from a guest's answer. */
    static final int MAX_PER_VM = 16;
    private static final Pattern MAC = Pattern.compile("(?:[0-9a-f]{2}:){5}[0-9a-f]{2}");
    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
            + "(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");

    private GuestAnswers() {
    }

    /** What to believe of {@code nics} for a VM with NICs {@code macs}; {@code source} names where it came from. */
    static List<VmStatus.Address> keep(List<Hypervisor.GuestNic> nics, List<String> macs, String source) {
        Map<String, VmStatus.Address> kept = new HashMap<>();
        List<VmStatus.Address> ordered = new ArrayList<>();
        for (Hypervisor.GuestNic nic : nics) {
            String named = nic.mac() == null ? "" : nic.mac().toLowerCase(Locale.ROOT);
            int ours = MAC.matcher(named).matches() ? macs.indexOf(named) : -1;
            if (ours < 0 || nic.ipv4() == null) {
                continue;
            }
            String mac = macs.get(ours);  // kept: our own copy, not one more string per VM from the guest
            for (String ip : nic.ipv4()) {
                if (ip != null && ip.length() <= 15 && IPV4.matcher(ip).matches() && !ip.startsWith("127.")
                        && ordered.size() < MAX_PER_VM && kept.putIfAbsent(ip + " " + mac,
                        new VmStatus.Address(ip, mac, source)) == null) {
                    ordered.add(kept.get(ip + " " + mac));
                }
            }
        }
        ordered.sort(Comparator.comparingInt(a -> macs.indexOf(a.mac())));
        return List.copyOf(ordered);
    }
}
