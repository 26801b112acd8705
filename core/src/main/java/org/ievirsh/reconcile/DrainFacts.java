package org.ievirsh.reconcile;

import java.util.Map;
import java.util.Optional;
import org.ievirsh.blade.Blade;
import org.ievirsh.blade.Fleet;
import org.ievirsh.blade.Migrations;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.placement.Placement;

/**
 * DrainFacts gathers, for each VM whose domain is on a draining blade, its
 * way off it: a move under way, or the blade with room reserved for it (the
 * usual placement, the room held for the whole move), or why it cannot go
 * now (no room, every migration slot taken, a recent failed move).
 */
final class DrainFacts {
    private final Fleet fleet;
    private final Migrations migrations;

    DrainFacts(Fleet fleet, Migrations migrations) {
        this.fleet = fleet;
        this.migrations = migrations;
    }

    void gather(Map<String, Gatherer.Draft> vms) {
        int slots = migrations.freeSlots();  // this pass's moves take slots too: no more are planned than may start
        for (Gatherer.Draft vm : vms.values()) {
            Optional<Migrations.Move> under = migrations.under(vm.key);
            if (under.isPresent()) {
                vm.move = new VmFacts.Move(Optional.of(under.get().to()), Optional.empty(), "");
                continue;
            }
            ObservedDomain d = vm.domain();
            Optional<Blade> blade = d == null ? Optional.empty() : fleet.blade(d.blade());
            if (d == null || blade.isEmpty() || !blade.get().config().drain() || !fleet.bladeUp(d.blade())
                    || !(vm.desired instanceof Desired.Valid valid) || vm.rendered == null) {
                continue;
            }
            Optional<Migrations.Failure> failed = migrations.recentFailure(vm.key);
            if (failed.isPresent()) {
                vm.move = waiting("its last move failed (" + failed.get().said() + "); it is tried again within "
                        + Migrations.RETRY_AFTER.toMinutes() + " minutes");
                continue;
            }
            if (slots <= 0) {
                vm.move = waiting("it waits for a free migration slot (migration.parallel)");
                continue;
            }
            Placement.Choice choice = fleet.place(vm.key, valid.vcpus(), valid.memoryBytes(), d.config().macs());
            vm.move = choice.blade().isPresent() ? new VmFacts.Move(Optional.empty(), choice.blade(), "")
                    : waiting("no other blade has room for it (" + choice.reason() + ")");
            slots -= choice.blade().isPresent() ? 1 : 0;
        }
    }

    private static VmFacts.Move waiting(String why) {
        return new VmFacts.Move(Optional.empty(), Optional.empty(), why);
    }
}
