package org.ievirsh.reconcile;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.ievirsh.blade.Fleet;
import org.ievirsh.engine.Result;
import org.ievirsh.image.Inspections;
import org.ievirsh.users.UserIndex;

/**
 * UserReconciler brings one student's VMs in line with their files, in
 * stages that pass values: gather the facts ({@link Gatherer}), keep the
 * tallies across students ({@link Bookkeeping}: room on the blades, the
 * deletion guard), plan each VM ({@link VmPlanner}, pure), converge it
 * (calls, look again: {@link Converger}), and publish statuses and metrics
 * ({@link Publisher}).
 * A student is the unit of work because quota and images span all of their
 * VMs. What is remembered of a student between passes is one
 * {@link UserMemory}, dropped whole when they go.
 */
public final class UserReconciler {
    private final UserIndex index;
    private final Fleet fleet;
    private final Inspections inspections;
    private final Gatherer gatherer;
    private final Bookkeeping bookkeeping;
    private final Converger converger;
    private final Publisher publisher;
    private final List<Consumer<String>> forgetting;
    private final java.time.Clock clock;
    private final Map<String, UserMemory> memories = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.LongAdder readAfresh = new java.util.concurrent.atomic.LongAdder();

    /** {@code forgetting}: what else remembers a student, told when they go (see {@link #forget}). */
    UserReconciler(UserIndex index, Fleet fleet, Inspections inspections, Gatherer gatherer, Bookkeeping bookkeeping,
                   Converger converger, Publisher publisher, List<Consumer<String>> forgetting, java.time.Clock clock) {
        this.bookkeeping = bookkeeping;
        this.index = index;
        this.fleet = fleet;
        this.inspections = inspections;
        this.gatherer = gatherer;
        this.converger = converger;
        this.publisher = publisher;
        this.forgetting = List.copyOf(forgetting);
        this.clock = clock;
    }

    public Result reconcile(String user) {
        Optional<UserIndex.Entry> entry = index.get(user);
        if (entry.isEmpty()) {
            forget(user);
            return Result.done();
        }
        UserMemory memory = memories.computeIfAbsent(user, u -> new UserMemory());
        if (memory.unchanged.byStats(entry.get(), fleet, gatherer.catalogs(), inspections.generation(),
                gatherer.guestGeneration(user), clock.instant())) {
            // The usual resync of the usual student: a dozen stats tell nothing changed.
            return wakeAt(memory.unchanged.until(), Result.done());
        }
        readAfresh.increment();
        try (UserFacts gathered = gatherer.gather(entry.get(), memory)) {
            UserFacts facts = bookkeeping.keep(gathered);
            if (memory.unchanged.byFacts(facts.fingerprint())) {
                memory.unchanged.stillClean(facts.restsOn());
                return wakeAt(facts.nextChange(), Result.done());
            }
            memory.unchanged.changed();
            List<Converger.Converged> vms = new ArrayList<>();
            for (VmFacts vm : facts.vms().values()) {
                vms.add(converger.converge(vm, facts.owner(), memory));
            }
            boolean allWritten = publisher.publish(facts, vms, memory);
            Result result = resultOf(vms);
            if (result instanceof Result.Done && allWritten && vms.stream().allMatch(vm -> vm.calls() == 0)) {
                memory.unchanged.clean(facts.fingerprint(), facts.restsOn());
            }
            return wakeAt(facts.nextChange(), result);
        }
    }

    /**
     * A pass that is done is made again at {@code moment} (a VM's warning or
     * end comes by the clock alone); the pass still counts as clean.
     */
    private Result wakeAt(Optional<java.time.Instant> moment, Result result) {
        if (!(result instanceof Result.Done) || moment.isEmpty()) {
            return result;
        }
        Duration left = Duration.between(clock.instant(), moment.get());
        return Result.requeueAfter(left.isNegative() ? Duration.ZERO : left);
    }

    /** The first failure (retried unless libvirt refused the definition), else the soonest look again. */
    private static Result resultOf(List<Converger.Converged> vms) {
        Duration again = null;
        for (Converger.Converged vm : vms) {
            if (vm.failure().isPresent()) {
                VmFacts.Failure failure = vm.failure().get();
                return failure.retry() ? Result.error(failure.message()) : Result.terminal(failure.message());
            }
            if (vm.again().isPresent() && (again == null || vm.again().get().compareTo(again) < 0)) {
                again = vm.again().get();
            }
        }
        return again == null ? Result.done() : Result.requeueAfter(again);
    }

    /** True when the stat proof of {@code user}'s last clean pass stands (a test's and a benchmark's view). */
    public boolean quiet(String user) {
        UserMemory memory = memories.get(user);
        return memory != null && memory.unchanged.quiet();
    }

    /** How many passes over a student read their files afresh, the stat proof not standing (a benchmark's figure). */
    public long readAfresh() {
        return readAfresh.sum();
    }

    /** A new config: every student's next pass reads everything afresh (no proof of the old one stands). */
    public void forgetProofs() {
        memories.values().forEach(m -> m.unchanged.changed());
    }

    /** Forgets everything remembered of a student who has no directory any more (their VMs stay as they are). */
    public void forget(String user) {
        memories.remove(user);
        forgetting.forEach(f -> f.accept(user));
    }
}
