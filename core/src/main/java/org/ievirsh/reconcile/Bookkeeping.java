package org.ievirsh.reconcile;

import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import org.ievirsh.blade.Blade;
import org.ievirsh.blade.Fleet;
import org.ievirsh.blade.Migrations;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.placement.Placement;

/**
 * Bookkeeping is the one step of a student's pass that changes something
 * before any call is made, and what it changes is only the controller's own
 * tallies across students (no libvirt call, no file). It runs on the
 * gatherer's facts: room is reserved on a blade for each VM that
 * {@link PlacementPlanner} places now and released for the others; a VM
 * leaving a draining blade ({@link DrainPlanner}) has room held where it
 * goes, for the whole move; and each removal the pass would make is put to
 * the {@link DeletionGuard}, which counts them across the fleet. It returns
 * the facts with placements, moves and the guard's answers filled in.
 */
final class Bookkeeping {
    private final Fleet fleet;
    private final Migrations migrations;
    private final DeletionGuard guard;

    Bookkeeping(Fleet fleet, Migrations migrations, DeletionGuard guard) {
        this.fleet = fleet;
        this.migrations = migrations;
        this.guard = guard;
    }

    UserFacts keep(UserFacts facts) {
        return facts.withVms(keep(facts.user(), facts.vms(), facts.readable(), facts.domains()));
    }

    /** {@code user}'s VMs' facts after the bookkeeping; {@code readable}: their directory was read. */
    SortedMap<String, VmFacts> keep(String user, SortedMap<String, VmFacts> gathered, boolean readable, int domains) {
        SortedMap<String, VmFacts> vms = reserve(user, gathered);
        vms.replaceAll((name, vm) -> guard(user + "/" + name, vm, readable, domains));
        return vms;
    }

    /**
     * A removal (the file gone from a directory that was read, the domain
     * there) is asked of the guard; every other VM resolves what it held.
     */
    private VmFacts guard(String key, VmFacts vm, boolean readable, int userVms) {
        boolean removal = readable && vm.asked().desired() instanceof Desired.Absent
                && vm.seen().observation() instanceof Observation.Found;
        if (!removal) {
            guard.resolved(key);
            return vm;
        }
        DeletionGuard.Decision decision = guard.ask(key, userVms, vm.now());
        return vm.guarded(decision.heldBecause(), decision.askAgainIn());
    }

    /** {@code user}'s VMs' facts with room reserved and moves chosen. */
    SortedMap<String, VmFacts> reserve(String user, SortedMap<String, VmFacts> gathered) {
        SortedMap<String, VmFacts> vms = new TreeMap<>();
        for (VmFacts vm : gathered.values()) {
            vms.put(vm.vm(), place(user + "/" + vm.vm(), vm));
        }
        int slots = migrations.freeSlots();  // this pass's moves take slots too: no more are planned than may start
        for (VmFacts vm : vms.values()) {
            String key = user + "/" + vm.vm();
            DrainPlanner.Leave leave = leave(key, vm, slots);
            VmFacts.Move move = VmFacts.Move.NONE;
            if (leave instanceof DrainPlanner.Leave.Moving moving) {
                move = new VmFacts.Move(Optional.of(moving.to()), Optional.empty(), "");
            } else if (leave instanceof DrainPlanner.Leave.Wait wait) {
                move = new VmFacts.Move(Optional.empty(), Optional.empty(), wait.why());
            } else if (leave instanceof DrainPlanner.Leave.Room) {
                Desired.Valid valid = (Desired.Valid) vm.asked().desired();
                ObservedDomain domain = ((Observation.Found) vm.seen().observation()).domain();
                Placement.Choice choice = fleet.place(key, valid.vcpus(), valid.memoryBytes(), domain.config().macs());
                move = choice.blade().isPresent() ? new VmFacts.Move(Optional.empty(), choice.blade(), "")
                        : new VmFacts.Move(Optional.empty(), Optional.empty(),
                                "no other blade has room for it (" + choice.reason() + ")");
                slots -= choice.blade().isPresent() ? 1 : 0;
            }
            if (move.draining()) {
                vms.put(vm.vm(), vm.moving(move));
            }
        }
        return vms;
    }

    /** Room reserved for {@code vm} if it is to be placed now, else released; its placement as the planner reads it. */
    private VmFacts place(String key, VmFacts vm) {
        Observation seen = vm.seen().observation();
        boolean nameTaken = vm.target().nameTakenBy().isPresent();
        PlacementPlanner.Need need = PlacementPlanner.mayNeedRoom(usable(vm), seen, nameTaken)
                ? PlacementPlanner.where(seen, vm.target().blades()) : new PlacementPlanner.Need.Nothing();
        if (need instanceof PlacementPlanner.Need.Room) {
            Desired.Valid valid = (Desired.Valid) vm.asked().desired();
            Placement.Choice choice = fleet.place(key, valid.vcpus(), valid.memoryBytes(),
                    vm.target().rendered().metadata().macs());
            return vm.placed(choice.blade().map(VmFacts.Placement::on)
                    .orElseGet(() -> VmFacts.Placement.unschedulable(choice.reason())));
        }
        fleet.release(key);
        return need instanceof PlacementPlanner.Need.Wait wait ? vm.placed(VmFacts.Placement.waiting(wait.why())) : vm;
    }

    private DrainPlanner.Leave leave(String key, VmFacts vm, int slots) {
        Optional<String> movingTo = migrations.under(key).map(Migrations.Move::to);
        ObservedDomain d = vm.seen().observation() instanceof Observation.Found found ? found.domain() : null;
        boolean draining = d != null && fleet.blade(d.blade()).map(Blade::config).map(c -> c.drain()).orElse(false)
                && fleet.bladeUp(d.blade());
        boolean movable = vm.asked().desired() instanceof Desired.Valid && vm.target().rendered() != null;
        Optional<String> failed = movingTo.isPresent() || !draining || !movable ? Optional.empty()
                : migrations.recentFailure(key).map(Migrations.Failure::said);
        return DrainPlanner.leave(movingTo, draining, movable, failed, slots);
    }

    /** A VM that can be made: a valid file, admitted, its image accepted and no other VM's. */
    static boolean usable(VmFacts vm) {
        return vm.asked().desired() instanceof Desired.Valid && vm.allowed().admission().admitted()
                && vm.allowed().image().accepted() && vm.allowed().imageInUseBy() == null;
    }
}
