package org.ievirsh.controller;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import org.ievirsh.address.AddressBook;
import org.ievirsh.blade.Blade;
import org.ievirsh.blade.Fleet;
import org.ievirsh.engine.Engine;
import org.ievirsh.engine.Key;
import org.ievirsh.engine.WorkQueue;
import org.ievirsh.image.BaseImages;
import org.ievirsh.image.Inspection;
import org.ievirsh.image.Inspections;
import org.ievirsh.metrics.Metrics;
import org.ievirsh.metrics.PerVmCollector;
import org.ievirsh.reconcile.DeletionGuard;
import org.ievirsh.reconcile.Passes;
import org.ievirsh.status.StatusBook;
import org.ievirsh.users.UserIndex;

/** ControllerMeters registers what the controller's parts tell the metrics: read when scraped, never stored twice. */
final class ControllerMeters {

    private ControllerMeters() {
    }

    static void register(Metrics metrics, Passes passes, WorkQueue<Key> queue, Engine<Key> engine, Fleet fleet,
                         UserIndex index, StatusBook book, DeletionGuard guard, PerVmCollector perVm, BaseImages bases,
                         Inspections inspections, AddressBook addresses) {
        metrics.registerPass(() -> passes.lastDuration().toNanos() / 1e9);
        metrics.registerState(queue::depth, engine::active, BladeMeters.of(fleet, u -> index.get(u).isPresent()), book,
                guard::isTripped, guard::pendingRemovals, () -> {
                    UserIndex.Counts c = index.counts();
                    return new int[] {c.users(), c.unresolved(), c.conflicting()};
                }, () -> orphans(fleet, index));
        metrics.publish(perVm);
        metrics.registerBases(() -> bases.counts(metrics.changedBases(), b -> {
            Inspection known = inspections.knownBase(b.name(), b.version());
            return known != null && known.state() == Inspection.State.INSECURE;
        }));
        FunctionCounter.builder("ievirsh.lease.file.errors", addresses, AddressBook::leaseFileErrors)
                .description("Failed reads of the DHCP lease files (missing, unreadable, too large); the log says which")
                .register(metrics.registry());
        Gauge.builder("ievirsh.lease.conflicts", addresses, AddressBook::leaseConflicts)
                .description("MACs holding DHCP leases to more than one address at once (none of them believed: a"
                        + " guest may have taken another VM's MAC); the log says which")
                .register(metrics.registry());
    }

    /** Domains on the blades whose owner is no student the controller knows. */
    private static int orphans(Fleet fleet, UserIndex index) {
        int orphans = 0;
        for (Blade blade : fleet.blades()) {
            for (String user : blade.view().users()) {
                if (index.get(user).isEmpty()) {
                    orphans += blade.view().ofUser(user).size();
                }
            }
        }
        return orphans;
    }
}
