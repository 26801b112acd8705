package org.ievirsh.controller;

import java.util.ArrayList;
import java.util.List;
import org.ievirsh.blade.Blade;
import org.ievirsh.blade.Fleet;
import org.ievirsh.metrics.Metrics;

/**
 * BladeMeters is what the metrics read of one blade: connected, its room and
 * what is placed there, and while it drains, what is left on it that the
 * controller moves (the VMs of students it knows) and what it does not
 * (orphans, whose student's directory is gone, and domains not its own).
 */
record BladeMeters(Blade blade, Fleet fleet, java.util.function.Predicate<String> known)
        implements Metrics.BladeGauges {

    /** The meters of every blade of {@code fleet}; {@code known} tells the users with a directory now. */
    static List<Metrics.BladeGauges> of(Fleet fleet, java.util.function.Predicate<String> known) {
        List<Metrics.BladeGauges> meters = new ArrayList<>();
        fleet.blades().forEach(b -> meters.add(new BladeMeters(b, fleet, known)));
        return meters;
    }

    @Override
    public String name() {
        return blade.name();
    }

    @Override
    public boolean up() {
        return blade.view().isUp();
    }

    @Override
    public double vcpus() {
        return blade.capacity().vcpus();
    }

    @Override
    public double vcpusAllocated() {
        return fleet.allocated(blade.name())[0];
    }

    @Override
    public double memoryBytes() {
        return blade.capacity().memoryBytes();
    }

    @Override
    public double memoryAllocatedBytes() {
        return fleet.allocated(blade.name())[1];
    }

    @Override
    public boolean draining() {
        return blade.config().drain() && !blade.retired()
                && blade.view().all().stream().anyMatch(d -> known.test(d.config().user()));
    }

    @Override
    public double unmovable() {
        if (!blade.config().drain() || blade.retired()) {
            return 0;
        }
        long orphans = blade.view().all().stream().filter(d -> !known.test(d.config().user())).count();
        return orphans + blade.view().othersNames().size();
    }
}
