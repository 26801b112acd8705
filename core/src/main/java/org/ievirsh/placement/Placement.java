package org.ievirsh.placement;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.ievirsh.api.v1.Quantities;

/**
 * Placement picks the blade of a new VM: among the schedulable, reachable
 * blades with room for it, the one with the most free memory; ties go to the
 * one with fewer VMs, then to the first name. A VM never moves afterwards.
 */
public final class Placement {

    private Placement() {
    }

    /** Choice is a blade, or why there is none. */
    public record Choice(Optional<String> blade, String reason) {
    }

    public static Choice choose(List<BladeRoom> blades, int vcpus, long memoryBytes) {
        List<BladeRoom> fitting = new ArrayList<>();
        List<String> why = new ArrayList<>();
        for (BladeRoom b : blades) {
            if (!b.schedulable()) {
                why.add(b.name() + " takes no new VMs");
            } else if (!b.reachable()) {
                why.add(b.name() + " is unreachable");
            } else if (b.freeVcpus() < vcpus || b.freeMemoryBytes() < memoryBytes) {
                why.add(b.name() + " has " + Math.max(0, b.freeVcpus()) + " vCPUs and "
                        + Quantities.readable(Math.max(0, b.freeMemoryBytes())) + " free");
            } else {
                fitting.add(b);
            }
        }
        return fitting.stream()
                .min(Comparator.comparingLong(BladeRoom::freeMemoryBytes).reversed()
                        .thenComparingInt(BladeRoom::vms).thenComparing(BladeRoom::name))
                .map(b -> new Choice(Optional.of(b.name()), ""))
                .orElseGet(() -> new Choice(Optional.empty(), "no blade has room for " + vcpus + " vCPUs and "
                        + Quantities.readable(memoryBytes) + ": " + String.join("; ", why)
                        + " (an admin may set a blade's capacity: see the README's configuration)"));
    }
}
