package org.ievirsh.controller;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.blade.Blade;
import org.ievirsh.blade.BladeRefresher;
import org.ievirsh.blade.Fleet;
import org.ievirsh.image.ImageChecker;
import org.ievirsh.image.Inspections;
import org.ievirsh.libvirt.BladeLink;
import org.ievirsh.libvirt.Hypervisor;
import org.ievirsh.libvirt.HypervisorException;
import org.ievirsh.libvirt.LifecycleEvent;
import org.ievirsh.metrics.Metrics;
import org.ievirsh.metrics.PerVmCollector;
import org.ievirsh.reconcile.DeletionGuard;
import org.ievirsh.reconcile.Result;
import org.ievirsh.reconcile.UserReconciler;
import org.ievirsh.reconcile.WorkQueue;
import org.ievirsh.status.StatusBook;
import org.ievirsh.status.StatusWriter;
import org.ievirsh.template.TemplateLibrary;
import org.ievirsh.users.OwnerResolver;
import org.ievirsh.users.UserDirectories;
import org.ievirsh.users.UserIndex;

/**
 * Controller is the engine: a work queue of keys, workers that reconcile
 * them, a resync that re-checks everything every {@code resync}, a watcher
 * that sees file changes within a second, and one link per blade whose
 * events feed the queue. Stopping it leaves every VM as it is.
 */
public final class Controller implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Controller.class.getName());

    private final ControllerConfig config;
    private final OwnerResolver owners;
    private final Clock clock;
    private final Metrics metrics;
    private final Inspections inspections;
    private final WorkQueue<Key> queue = new WorkQueue<>();
    private final UserIndex index = new UserIndex();
    private final UserDirectories directories;
    private final TemplateLibrary templates;
    private final Fleet fleet;
    private final StatusBook book = new StatusBook();
    private final DeletionGuard guard;
    private final UserReconciler reconciler;
    private final PerVmCollector perVm;
    private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(1, r -> {
        Thread t = new Thread(r, "controller-timers");
        t.setDaemon(true);
        return t;
    });
    private final List<Thread> workers = new ArrayList<>();
    private final Set<String> pass = ConcurrentHashMap.newKeySet();
    private final AtomicInteger activeWorkers = new AtomicInteger();
    private volatile long passStartedAt;
    private volatile Duration lastPass = Duration.ZERO;
    private volatile boolean firstPassDone;
    /** FULL_LISTING is how often each blade is listed whole even when its events say nothing changed. */
    public static final Duration FULL_LISTING = Duration.ofMinutes(5);
    private long lastFullListing = System.nanoTime();
    private volatile boolean running;
    private DirectoryWatcher watcher;

    /**
     * Builds a controller; {@code links} makes the link of each blade (libvirt
     * in production, a fake in tests).
     */
    public Controller(ControllerConfig config, OwnerResolver owners, Function<ControllerConfig.Blade, BladeLink> links,
                      Metrics metrics, Clock clock) {
        this.config = config;
        this.owners = owners;
        this.clock = clock;
        this.metrics = metrics;
        this.directories = new UserDirectories(config.users().directories(), config.users().minUid());
        this.templates = new TemplateLibrary(config.templates());
        List<Blade> blades = new ArrayList<>();
        for (ControllerConfig.Blade blade : config.blades()) {
            blades.add(new Blade(blade, links.apply(blade)));
        }
        this.fleet = new Fleet(blades);
        this.guard = new DeletionGuard(config.deletionGuard());
        StatusWriter writer = new StatusWriter(() -> clock.instant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
                .toString());
        this.perVm = new PerVmCollector(fleet, book);
        ImageChecker images = new ImageChecker(config.images().root());
        this.inspections = new Inspections(Inspections.Mode.valueOf(config.images().inspection().toUpperCase(
                java.util.Locale.ROOT)), images, Inspections.guestfish(new org.ievirsh.image.guest.Sandbox(
                config.images().inspectionCache(), Inspections.backendSettings())),
                Math.max(2, Math.min(8, Runtime.getRuntime().availableProcessors() / 4)), metrics, clock);
        this.reconciler = new UserReconciler(config, index, directories, templates, images, inspections,
                user -> queue.add(new Key.User(user)), fleet, writer, book, guard, metrics, perVm, clock);
        registerMetrics();
    }

    private void registerMetrics() {
        List<Metrics.BladeGauges> gauges = new ArrayList<>();
        for (Blade blade : fleet.blades()) {
            gauges.add(new Metrics.BladeGauges() {
                public String name() {
                    return blade.name();
                }

                public boolean up() {
                    return blade.view().isUp();
                }

                public double vcpus() {
                    return blade.capacity().vcpus();
                }

                public double vcpusAllocated() {
                    return fleet.allocated(blade.name())[0];
                }

                public double memoryBytes() {
                    return blade.capacity().memoryBytes();
                }

                public double memoryAllocatedBytes() {
                    return fleet.allocated(blade.name())[1];
                }
            });
        }
        metrics.registerPass(() -> lastPass.toNanos() / 1e9);
        metrics.registerState(queue::depth, activeWorkers::get, gauges, book, guard::isTripped,
                guard::pendingRemovals, () -> {
                    UserIndex.Counts c = index.counts();
                    return new int[] {c.users(), c.unresolved(), c.conflicting()};
                }, this::orphanCount);
        perVm.register(metrics.registry());
    }

    private int orphanCount() {
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

    /** Starts everything: discovery, blade links, workers, resync and watching. */
    public synchronized void start() {
        if (running) {
            return;
        }
        running = true;
        reportTemplates(templates.reload());
        try {
            watcher = new DirectoryWatcher(this::studentDirectoryChanged, () -> queue.add(new Key.Discovery()));
        } catch (IOException e) {
            LOG.warning("file watching is off (" + e.getMessage() + "); changes are seen at each resync");
        }
        for (Blade blade : fleet.blades()) {
            blade.link().start(new BladeLink.Listener() {
                @Override
                public void onConnected(String name) {
                    blade.connected();
                    queue.add(new Key.Blade(name));
                }

                @Override
                public void onDisconnected(String name, String reason) {
                    blade.disconnected();
                    metrics.bladeConnectionError(name);
                    blade.view().users().forEach(u -> queue.add(new Key.User(u)));
                }

                @Override
                public void onEvent(LifecycleEvent event) {
                    if (blade.view().queueEvent(event)) {
                        queue.add(new Key.Blade(event.blade()));
                    }
                }
            });
        }
        startWhenBladesAnswered();
        int count = Math.max(1, config.workers());
        for (int i = 0; i < count; i++) {
            Thread worker = new Thread(this::work, "reconcile-" + i);
            worker.setDaemon(true);
            workers.add(worker);
            worker.start();
        }
        long resync = config.resync().toMillis();
        timers.scheduleAtFixedRate(this::resync, resync, resync, TimeUnit.MILLISECONDS);
        LOG.info("controller started: " + config.blades().size() + " blades, " + count + " workers, resync every "
                + config.resync().toSeconds() + "s, watching " + config.users().directories());
    }

    /**
     * Starts the first discovery once every blade has been listed or has
     * failed to connect (or the startup grace is over): reconciling before
     * would only tell every student "waiting for a blade".
     */
    private void startWhenBladesAnswered() {
        long deadline = System.nanoTime() + Math.max(5_000_000_000L, config.resync().toNanos() * 2);
        Runnable check = new Runnable() {
            @Override
            public void run() {
                boolean answered = fleet.blades().stream()
                        .allMatch(b -> b.view().isListed() || b.link().attempted() && !b.view().isUp());
                if (answered || System.nanoTime() > deadline) {
                    queue.add(new Key.Discovery());
                } else if (running) {
                    timers.schedule(this, 20, TimeUnit.MILLISECONDS);
                }
            }
        };
        timers.execute(check);
    }

    private void resync() {
        try {
            if (!pass.isEmpty()) {
                // The last pass is not over (many students, a slow blade): a new one now would only queue
                // every user again behind it. The next tick tries again.
                LOG.fine(() -> "resync skipped: " + pass.size() + " users of the last pass are not done yet");
                return;
            }
            reportTemplates(templates.reload());
            // Events keep the views current while a blade is connected; a full listing is a safety net,
            // taken after a reconnect and every FULL_LISTING, not at every resync.
            long now = System.nanoTime();
            if (now - lastFullListing > FULL_LISTING.toNanos()) {
                lastFullListing = now;
                for (Blade blade : fleet.blades()) {
                    blade.fullRefreshDue();
                    queue.addRoutine(new Key.Blade(blade.name()));
                }
            }
            queue.addRoutine(new Key.Discovery());
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "resync failed", e);
        }
    }

    private void reportTemplates(Map<String, String> problems) {
        problems.forEach((name, problem) -> LOG.fine(() -> "template problem: " + problem));
    }

    private void studentDirectoryChanged(Path directory) {
        index.userOf(directory).ifPresent(user -> queue.add(new Key.User(user)));
    }

    private void work() {
        while (running) {
            Key key;
            try {
                key = queue.take(Duration.ofSeconds(1)).orElse(null);
            } catch (InterruptedException e) {
                return;
            }
            if (key == null) {
                continue;
            }
            activeWorkers.incrementAndGet();
            long started = System.nanoTime();
            String outcome;
            try {
                Result result = process(key);
                switch (result.kind()) {
                    case DONE:
                        queue.forget(key);
                        outcome = "success";
                        break;
                    case REQUEUE:
                        queue.forget(key);
                        queue.addAfter(key, result.after().orElse(Duration.ofSeconds(1)));
                        outcome = "requeue";
                        break;
                    default:
                        Duration delay = queue.addRateLimited(key);
                        LOG.fine(() -> key + ": " + result.error() + "; again in " + delay.toMillis() + "ms");
                        outcome = "error";
                        break;
                }
            } catch (Throwable t) {
                // The worker never dies: log with the key, count, retry with back-off.
                LOG.log(Level.SEVERE, "reconcile of " + key + " failed unexpectedly", t);
                queue.addRateLimited(key);
                outcome = "panic";
            } finally {
                queue.done(key);
                activeWorkers.decrementAndGet();
            }
            if (key instanceof Key.User user) {
                metrics.reconciled(outcome, Duration.ofNanos(System.nanoTime() - started));
                passed(user.user());
            }
        }
    }

    private Result process(Key key) {
        if (key instanceof Key.User user) {
            return reconciler.reconcile(user.user());
        }
        if (key instanceof Key.Blade blade) {
            return refresh(fleet.blade(blade.blade()).orElseThrow());
        }
        return discover();
    }

    private Result refresh(Blade blade) {
        Hypervisor hypervisor = blade.hypervisor().orElse(null);
        if (hypervisor == null) {
            return Result.done();
        }
        try {
            boolean full = blade.takeFullRefresh();
            if (full) {
                blade.node(hypervisor.nodeResources());
            }
            boolean firstListing = full && !blade.view().isListed();
            Set<String> changed = full ? BladeRefresher.fullRefresh(blade.view(), hypervisor)
                    : BladeRefresher.applyEvents(blade.view(), hypervisor);
            if (full && blade.view().hasPendingEvents()) {
                changed.addAll(BladeRefresher.applyEvents(blade.view(), hypervisor));
            }
            guard.managedVms(fleet.managedCount());
            for (String user : changed) {
                queue.add(new Key.User(user));
            }
            if (firstListing) {
                // Until this blade was listed, new VMs waited: they may be placed now.
                index.users().forEach(u -> queue.add(new Key.User(u)));
            }
            return blade.view().hasPendingEvents() ? Result.requeueAfter(Duration.ofMillis(1)) : Result.done();
        } catch (HypervisorException e) {
            blade.fullRefreshDue();
            if (e.isConnectionLost()) {
                blade.link().callFailed(e);
            }
            return Result.error(e.getMessage());
        }
    }

    private Result discover() {
        directories.refreshPrefix();
        List<UserDirectories.Found> found = directories.scan();
        Map<String, UserIndex.Entry> before = index.entries();
        Set<String> gone = index.update(found, owners);
        for (String user : gone) {
            reconciler.forget(user, before.get(user).directory().toString());
        }
        if (watcher != null && (index.changed() || !gone.isEmpty() || watcher.stale())) {
            // The same students in the same directories as last time: the watches stand (a pass over ten
            // thousand students would otherwise rebuild both sets for nothing).
            Set<Path> students = new HashSet<>();
            Set<Path> structure = new HashSet<>();
            structure.add(directories.prefix());
            for (UserIndex.Entry entry : index.entries().values()) {
                students.add(entry.directory());
                for (Path p = entry.directory().getParent(); p != null && p.startsWith(directories.prefix())
                        && !p.equals(directories.prefix()); p = p.getParent()) {
                    structure.add(p);
                }
            }
            watcher.watchStructure(structure);
            watcher.watchStudents(students);
        }
        if (pass.isEmpty()) {
            // A pass: every user found now, reconciled once. Its duration is the resync figure admins watch.
            passStartedAt = System.nanoTime();
            pass.addAll(index.users());
            if (pass.isEmpty()) {
                passDone();
            }
        }
        for (String user : index.users()) {
            queue.addRoutine(new Key.User(user));
        }
        return Result.done();
    }

    private void passed(String user) {
        if (pass.remove(user) && pass.isEmpty()) {
            passDone();
        }
    }

    private void passDone() {
        lastPass = Duration.ofNanos(System.nanoTime() - passStartedAt);
        if (!firstPassDone) {
            firstPassDone = true;
            guard.firstPassDone();
            LOG.info("first pass over " + index.users().size() + " users done in " + lastPass.toMillis() + " ms at "
                    + Instant.now(clock));
        }
    }

    /**
     * True when the last pass over {@code user} ended clean and the next can
     * tell from a few stats alone that nothing of theirs changed.
     */
    public boolean quiet(String user) {
        return reconciler.quiet(user);
    }

    /** How long the last full pass (discovery, then every user once) took. */
    public Duration lastPass() {
        return lastPass;
    }

    /** Ready: a blade is connected and every user was reconciled once. */
    public boolean isReady() {
        return firstPassDone && fleet.blades().stream().anyMatch(b -> b.view().isUp());
    }

    /** Why the controller is not ready, for {@code /readyz}. */
    public String readiness() {
        if (fleet.blades().stream().noneMatch(b -> b.view().isUp())) {
            return "no blade is connected";
        }
        return firstPassDone ? "ready" : "the first pass over the students' directories is not done";
    }

    public StatusBook statuses() {
        return book;
    }

    public Fleet fleet() {
        return fleet;
    }

    public Metrics metrics() {
        return metrics;
    }

    public DeletionGuard deletionGuard() {
        return guard;
    }

    /** Keys waiting now, for tests and benchmarks. */
    public int queueDepth() {
        return queue.depth() + queue.active();
    }

    /** Asks for a user to be reconciled now (tests, the demo). */
    public void poke(String user) {
        queue.add(new Key.User(user));
    }

    /** Asks for a discovery now. */
    public void discoverNow() {
        queue.add(new Key.Discovery());
    }

    /** Stops workers, timers, watching and links; leaves every VM as it is. */
    @Override
    public synchronized void close() {
        if (!running) {
            return;
        }
        running = false;
        timers.shutdownNow();
        if (watcher != null) {
            watcher.close();
        }
        queue.close();
        inspections.close();
        for (Thread worker : workers) {
            try {
                worker.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (Blade blade : fleet.blades()) {
            blade.link().close();
        }
        LOG.info("controller stopped; VMs are left as they are");
    }
}
