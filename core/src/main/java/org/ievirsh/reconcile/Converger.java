package org.ievirsh.reconcile;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.logging.Logger;
import org.ievirsh.api.v1.Reasons;
import org.ievirsh.blade.Fleet;
import org.ievirsh.blade.Migrations;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.image.Inspections;
import org.ievirsh.image.StudentDisks;
import org.ievirsh.metrics.Metrics;
import org.ievirsh.users.Owner;

/**
 * Converger carries out one VM's plan: it makes the calls (through the
 * {@link Executor}), looks at the blades again, asks the planner again, up
 * to {@link #MAX_ROUNDS} times, and keeps the VM's history (what was asked
 * of it, when it started) as it goes. A failed call becomes a fact, and the
 * planner says what the student sees of it.
 */
final class Converger {
    private static final Logger LOG = Logger.getLogger(Converger.class.getName());
    /** MAX_ROUNDS is how many plan-and-call rounds one pass makes for one VM. */
    static final int MAX_ROUNDS = 3;

    private final Fleet fleet;
    private final Executor executor;
    private final Inspections inspections;
    private final Migrations migrations;
    private final java.util.function.Function<Instant, ObservationPlanner.BladeDown> bladeDown;
    private final DeletionGuard guard;
    private final Metrics metrics;
    private final Clock clock;
    private final Consumer<String> wake;
    private final java.nio.file.Path imagesRoot;

    /** {@code wake} asks for a user to be reconciled again (when a look inside an image ends). */
    Converger(Fleet fleet, Inspections inspections, Migrations migrations, DeletionGuard guard, Metrics metrics,
              Clock clock, Consumer<String> wake, java.util.function.Function<Instant, ObservationPlanner.BladeDown> bladeDown,
              java.nio.file.Path imagesRoot) {
        this.imagesRoot = imagesRoot;
        this.fleet = fleet;
        this.bladeDown = bladeDown;
        this.migrations = migrations;
        this.executor = new Executor(fleet);
        this.inspections = inspections;
        this.guard = guard;
        this.metrics = metrics;
        this.clock = clock;
        this.wake = wake;
    }

    /**
     * Converged is how one VM's pass ended: its last facts and plan, the
     * calls made, a failure that stopped them, and when to look again.
     */
    record Converged(VmFacts facts, VmPlan plan, int calls, Optional<VmFacts.Failure> failure,
                     Optional<Duration> again) {
    }

    /** BESIDE makes a VM's seed while its disk is made: a few daemon threads, shared, the rest waits in line. */
    private static final ExecutorService BESIDE = Executors.newFixedThreadPool(4, r -> {
        Thread t = new Thread(r, "seed-beside-disk");
        t.setDaemon(true);
        return t;
    });

    /** Plans, runs the calls, looks again, up to {@link #MAX_ROUNDS} times; the last plan gives the status. */
    Converged converge(VmFacts gathered, Owner owner, UserMemory memory) {
        VmFacts f = gathered;
        VmPlan plan = VmPlanner.plan(f);
        int calls = 0;
        for (int round = 0; round < MAX_ROUNDS && !plan.actions().isEmpty(); round++) {
            if (plan.actions().stream().anyMatch(a -> a instanceof Action.Start)) {
                memory.startWantedSince.putIfAbsent(f.vm(), f.now());
            }
            List<Action> calling = new ArrayList<>();
            for (Action action : plan.actions()) {
                if (action instanceof Action.Inspect inspect) {
                    Desired.Valid valid = (Desired.Valid) f.asked().desired();
                    f = f.inspecting(inspections.start(owner.user(), owner.fileUid(), owner.fileGid(),
                            valid.vm().image(), inspect.version(), f.target().rendered().diskFormat(),
                            () -> wake.accept(owner.user())));
                    calls++;
                } else if (action instanceof Action.InspectBase look) {
                    inspections.startBase(look.name(), java.nio.file.Path.of(look.path()), look.version(),
                            () -> wake.accept(owner.user()));
                    calls++;
                } else if (action instanceof Action.MakeOverlay overlay) {
                    // The seed, if one is to be made, is made meanwhile (it needs nothing of the disk).
                    VmFacts seeding = f;
                    CompletableFuture<Optional<VmFacts.Failure>> seeded = plan.actions().stream()
                            .filter(Action.MakeSeed.class::isInstance).map(Action.MakeSeed.class::cast).findFirst()
                            .map(seed -> CompletableFuture.supplyAsync(() -> studentFiles(seeding, owner,
                                    () -> makeSeed(seeding, owner, seed), "made its NoCloud seed"), BESIDE))
                            .orElse(CompletableFuture.completedFuture(Optional.empty()));
                    Optional<VmFacts.Failure> failed = studentFiles(f, owner, () -> StudentDisks.overlay(
                            owner.fileUid(), owner.fileGid(), imagesRoot.resolve(owner.user()), overlay.image(),
                            java.nio.file.Path.of(overlay.base()), java.util.OptionalLong.of(overlay.size())),
                            "made its disk " + overlay.image() + " from " + overlay.base());
                    // A seed that failed is made again at the next pass (its inputs were not written); the log says why.
                    seeded.join();
                    // The disk is there (or a refusal is), and every fact about it changed: a new pass, at once.
                    if (failed.isPresent()) {
                        f = f.failed(failed.get());
                        return new Converged(f, VmPlanner.plan(f), calls + 1, failed, Optional.empty());
                    }
                    return new Converged(f, plan, calls + 1, Optional.empty(), Optional.of(Duration.ZERO));
                } else if (action instanceof Action.MakeSeed seed) {
                    VmFacts seeding = f;
                    Optional<VmFacts.Failure> failed = studentFiles(f, owner, () -> makeSeed(seeding, owner, seed),
                            "made its NoCloud seed");
                    if (failed.isPresent()) {
                        f = f.failed(failed.get());
                        return new Converged(f, VmPlanner.plan(f), calls + 1, failed, Optional.empty());
                    }
                    f = f.seeded();
                    calls++;
                } else if (action instanceof Action.Migrate move) {
                    if (!migrations.start(owner.user() + "/" + f.vm(), owner.user(), move.blade(), move.to(),
                            move.uuid(), move.live())) {
                        return new Converged(f, plan, calls, Optional.empty(), Optional.of(CallOutcomes.AGAIN));
                    }
                    f = f.moving(new VmFacts.Move(Optional.of(move.to()), Optional.empty(), ""));
                    calls++;
                } else {
                    calling.add(action);
                }
            }
            if (!calling.isEmpty()) {
                Executor.Outcome outcome = executor.run(calling, f.target().rendered(), f.domain());
                calls += calling.size();
                VmHistory history = f.seen().history();
                for (Action done : outcome.done()) {
                    LOG.info(owner.user() + "/" + f.vm() + ": " + describe(done));
                    history = afterAction(f.vm(), history, done, memory, owner.user());
                }
                f = observeAgain(f, owner, history, memory);
                if (!outcome.ok()) {
                    CallOutcomes.Meaning meaning = CallOutcomes.of(outcome.kind(), outcome.failure().orElse(""));
                    if (meaning instanceof CallOutcomes.Meaning.Again again) {
                        return new Converged(f, plan, calls, Optional.empty(), Optional.of(again.after()));
                    }
                    VmFacts.Failure failure = ((CallOutcomes.Meaning.Failed) meaning).failure();
                    LOG.fine(() -> owner.user() + "/" + gathered.vm() + ": " + failure.message());
                    f = f.failed(failure);
                    return new Converged(f, VmPlanner.plan(f), calls, Optional.of(failure), Optional.empty());
                }
            }
            plan = VmPlanner.plan(f);
        }
        if (!plan.actions().isEmpty()) {
            // Still something to do after the last round: the next pass comes at once.
            return new Converged(f, new VmPlan(List.of(), plan.status(), plan.definedXml(), plan.requeueAfter()), calls,
                    Optional.empty(), Optional.of(CallOutcomes.SOON));
        }
        return new Converged(f, plan, calls, Optional.empty(), plan.requeueAfter());
    }

    /** The history after a call that succeeded, and the bookkeeping that goes with it. */
    private VmHistory afterAction(String vm, VmHistory history, Action done, UserMemory memory, String user) {
        Instant at = clock.instant();
        VmHistory after = history;
        if (done instanceof Action.Start start) {
            after = history.started(start.afterFailure(), at);
            Instant since = memory.startWantedSince.remove(vm);
            if (since != null) {
                metrics.vmStarted(Duration.between(since, at));
            }
        } else if (done instanceof Action.Shutdown) {
            after = history.stopRequested(at);
        } else if (done instanceof Action.Destroy) {
            after = history.stopRequested(history.stopRequestedAt() != null ? history.stopRequestedAt() : at);
        } else if (done instanceof Action.Undefine) {
            guard.resolved(user + "/" + vm);
        } else if (done instanceof Action.Define) {
            fleet.release(user + "/" + vm);
        }
        memory.histories.put(vm, after);
        return after;
    }

    /** The facts once the blades were looked at again (the executor recorded its calls in their views). */
    private VmFacts observeAgain(VmFacts f, Owner owner, VmHistory history, UserMemory memory) {
        List<ObservedDomain> mine = new ArrayList<>();
        for (ObservedDomain d : fleet.domainsOf(owner.user())) {
            if (d.config().vm().equals(f.vm())) {
                mine.add(d);
            }
        }
        Observation seen = ObservationPlanner.observe(f.vm(), owner.uid(), mine, fleet::bladeUp, bladeDown.apply(f.now()));
        VmHistory after = history.observe(seen instanceof Observation.Found found ? found.domain() : null, f.now());
        memory.histories.put(f.vm(), after);
        return f.observed(seen, after);
    }

    /** Work on a student's files, as them: empty when it went well, else the failure the student is told. */
    private Optional<VmFacts.Failure> studentFiles(VmFacts f, Owner owner, StudentWork work, String done) {
        try {
            work.run();
            LOG.info(owner.user() + "/" + f.vm() + ": " + done);
            return Optional.empty();
        } catch (java.io.IOException | RuntimeException e) {
            LOG.warning(owner.user() + "/" + f.vm() + ": " + e.getMessage());
            return Optional.of(new VmFacts.Failure(e.getMessage(), Reasons.MAKING_DISK, true));
        }
    }

    private interface StudentWork {
        void run() throws java.io.IOException;
    }

    /** The seed of {@code f}'s VM: its UUID and name, the student's keys and user-data, read as them. */
    private void makeSeed(VmFacts f, Owner owner, Action.MakeSeed seed) throws java.io.IOException {
        DiskFacts.Seed wanted = f.allowed().disk().seed().orElseThrow();
        StudentDisks.SeedInputs given = StudentDisks.seedInputs(owner.fileUid(), owner.fileGid(),
                owner.home().isEmpty() ? Optional.empty() : Optional.of(java.nio.file.Path.of(owner.home())),
                java.nio.file.Path.of(wanted.userData()));
        String uuid = wanted.uuid();
        StudentDisks.seed(owner.fileUid(), owner.fileGid(), imagesRoot.resolve(owner.user()), f.vm(),
                StudentDisks.metaData(uuid, f.vm(), given.keys()), given.userData().orElse("#cloud-config\n"),
                seed.inputs());
    }

    private static String describe(Action action) {
        if (action instanceof Action.Define) {
            return "defined its domain on " + action.blade();
        }
        if (action instanceof Action.Start) {
            return "started it on " + action.blade();
        }
        if (action instanceof Action.Shutdown) {
            return "asked the guest to shut down on " + action.blade();
        }
        if (action instanceof Action.Destroy) {
            return "forced it off on " + action.blade();
        }
        if (action instanceof Action.Undefine) {
            return "removed its domain from " + action.blade() + " (the image stays)";
        }
        return action.toString();
    }
}
