package org.ievirsh.controller;

import java.util.ArrayList;
import java.util.List;
import org.ievirsh.blade.Blade;
import org.ievirsh.blade.Fleet;
import org.ievirsh.metrics.Metrics;

/** BladeMeters is what the metrics read of one blade: connected, and its room and what is placed there. */
record BladeMeters(Blade blade, Fleet fleet) implements Metrics.BladeGauges {

    /** The meters of every blade of {@code fleet}. */
    static List<Metrics.BladeGauges> of(Fleet fleet) {
        List<Metrics.BladeGauges> meters = new ArrayList<>();
        fleet.blades().forEach(b -> meters.add(new BladeMeters(b, fleet)));
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
        return blade.config().drain() && !blade.retired() && blade.view().allocated()[2] > 0;
    }
}
