package org.ievirsh.controller;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.ievirsh.address.AddressBook;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.blade.Blade;
import org.ievirsh.blade.Fleet;
import org.ievirsh.blade.Migrations;
import org.ievirsh.course.Classroom;
import org.ievirsh.course.ConsoleWatch;
import org.ievirsh.course.CourseMembers;
import org.ievirsh.course.CourseMeters;
import org.ievirsh.course.CourseProvisioner;
import org.ievirsh.engine.Engine;
import org.ievirsh.engine.Key;
import org.ievirsh.engine.Result;
import org.ievirsh.engine.SystemTicker;
import org.ievirsh.engine.Ticker;
import org.ievirsh.engine.WorkQueue;
import org.ievirsh.http.HttpApi;
import org.ievirsh.image.BaseImages;
import org.ievirsh.image.ImageChecker;
import org.ievirsh.image.Inspections;
import org.ievirsh.image.guest.Sandbox;
import org.ievirsh.libvirt.BladeLink;
import org.ievirsh.libvirt.LifecycleEvent;
import org.ievirsh.metrics.Metrics;
import org.ievirsh.metrics.PerVmCollector;
import org.ievirsh.reconcile.BladeReconciler;
import org.ievirsh.reconcile.DeletionGuard;
import org.ievirsh.reconcile.DiscoveryReconciler;
import org.ievirsh.reconcile.Passes;
import org.ievirsh.reconcile.Reconcilers;
import org.ievirsh.reconcile.UserReconciler;
import org.ievirsh.snapshot.SnapshotDesk;
import org.ievirsh.status.StatusBook;
import org.ievirsh.template.TemplateLibrary;
import org.ievirsh.users.OwnerResolver;
import org.ievirsh.users.UserDirectories;
import org.ievirsh.users.UserIndex;

/**
 * Controller is the daemon put together: it wires the parts (the one place
 * that does), then runs them. A work queue of keys feeds the engine's
 * workers, which hand each key to its reconciler (a user's, a blade's, the
 * discovery); a resync queues everything every {@code resync}; a watcher
 * sees file changes within a second; one link per blade feeds its events.
 * Stopping it leaves every VM as it is.
 */
public final class Controller implements HttpApi.Health, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Controller.class.getName());
    /** FULL_LISTING is how often each blade is listed whole even when its events say nothing changed. */
    public static final Duration FULL_LISTING = Duration.ofMinutes(5);

    private volatile ControllerConfig config;
    private final Function<ControllerConfig.Blade, BladeLink> links;
    private final Ticker ticker;
    private final SystemTicker ownTicker;
    private final Metrics metrics;
    private final WorkQueue<Key> queue;
    private final UserIndex index = new UserIndex();
    private final TemplateLibrary templates;
    private final Fleet fleet;
    private final StatusBook book;
    private final DeletionGuard guard;
    private final Inspections inspections;
    private final BaseImages bases;
    private final AddressBook addresses;
    private final Migrations migrations;
    private final PerVmCollector perVm;
    private final Passes passes;
    private final UserReconciler users;
    private final BladeReconciler bladeReconciler;
    private final OwnerResolver owners;
    private final Clock clock;
    private volatile java.time.Instant startedAt;
    private final UserDirectories directories;
    private final Engine<Key> engine;
    private DiscoveryReconciler discovery;
    private volatile CourseProvisioner courses;
    private volatile Classroom classroom;
    private volatile CourseMeters courseMeters;
    private final ConsoleWatch watch = new ConsoleWatch();
    private final SnapshotDesk snapshots;
    /** One course round at a time, on a thread of its own: NSS and the students' scripts may take their time. */
    private final java.util.concurrent.ExecutorService courseRounds = java.util.concurrent.Executors
            .newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "courses");
                t.setDaemon(true);
                return t;
            });
    private final java.util.concurrent.atomic.AtomicBoolean courseRoundQueued =
            new java.util.concurrent.atomic.AtomicBoolean();
    private DirectoryWatcher watcher;
    private volatile long lastFullListing;
    private volatile boolean running;
    private volatile boolean discoveryStarted;
    private Ticker.Scheduled resync;
    private Ticker.Scheduled startupDeadline;

    /**
     * Builds a controller on the machine's clocks; {@code links} makes the
     * link of each blade (libvirt in production, a fake in tests).
     */
    public Controller(ControllerConfig config, OwnerResolver owners, Function<ControllerConfig.Blade, BladeLink> links,
                      Metrics metrics, Clock clock) {
        this(config, owners, links, metrics, clock, null);
    }

    /** Builds a controller on {@code clock} (wall time) and {@code ticker} (delays; null: the machine's). */
    public Controller(ControllerConfig config, OwnerResolver owners, Function<ControllerConfig.Blade, BladeLink> links,
                      Metrics metrics, Clock clock, Ticker ticker) {
        this(config, owners, links, metrics, clock, ticker, new StatusBook());
    }

    /** The same, publishing into {@code book} (the daemon's, which its HTTP serves from before a takeover). */
    public Controller(ControllerConfig config, OwnerResolver owners, Function<ControllerConfig.Blade, BladeLink> links,
                      Metrics metrics, Clock clock, Ticker ticker, StatusBook book) {
        this.book = book;
        this.config = config;
        this.links = links;
        this.clock = clock;
        this.owners = owners;
        this.metrics = metrics;
        this.ownTicker = ticker == null ? new SystemTicker("controller-timers") : null;
        this.ticker = ticker == null ? ownTicker : ticker;
        this.queue = new WorkQueue<>(this.ticker);
        this.lastFullListing = this.ticker.nanoTime();
        this.directories = new UserDirectories(config.users().directories(), config.users().minUid());
        this.templates = new TemplateLibrary(config.templates());
        List<Blade> blades = new ArrayList<>();
        for (ControllerConfig.Blade blade : config.blades()) {
            blades.add(new Blade(blade, links.apply(blade)));
        }
        this.fleet = new Fleet(blades);
        this.guard = new DeletionGuard(config.deletionGuard());
        this.perVm = new PerVmCollector(fleet, book);
        this.bases = new BaseImages(config.baseImages().root());
        ImageChecker images = new ImageChecker(config.images().root()).withBases(bases);
        this.inspections = new Inspections(Inspections.Mode.valueOf(config.images().inspection()
                .toUpperCase(java.util.Locale.ROOT)), images, Inspections.guestfish(new Sandbox(
                config.images().inspectionCache(), Inspections.backendSettings())),
                Math.max(2, Math.min(8, Runtime.getRuntime().availableProcessors() / 4)), metrics, clock);
        this.passes = new Passes(this.ticker, () -> {
            guard.firstPassDone();
            LOG.info("first pass over " + index.users().size() + " users done");
        });
        this.addresses = new AddressBook(config.addresses(), clock,
                blade -> fleet.blade(blade).flatMap(Blade::hypervisor), user -> queue.add(new Key.User(user)));
        this.migrations = new Migrations(fleet, () -> this.config.migration(), metrics.registry(), clock,
                user -> queue.add(new Key.User(user)));
        this.users = Reconcilers.users(() -> this.config, index, directories, templates, images, inspections, fleet, book, guard,
                metrics, perVm, addresses, migrations, bases, watch, clock, Clock.systemUTC(),
                user -> queue.add(new Key.User(user)));
        this.bladeReconciler = new BladeReconciler(fleet, guard, index, user -> queue.add(new Key.User(user)),
                this::startDiscoveryIfBladesAnswered);
        this.engine = new Engine<>(queue, this::handle, this::handled, config.workers(), this.ticker);
        courseMembers(CourseMembers.nss());
        this.snapshots = new SnapshotDesk(() -> this.config, fleet, book, metrics.registry(),
                user -> queue.add(new Key.User(user)));
        watch.onChange(user -> queue.add(new Key.User(user)));
        metrics.registerPass(() -> passes.lastDuration().toNanos() / 1e9);
        metrics.registerState(queue::depth, engine::active, BladeMeters.of(fleet, u -> index.get(u).isPresent()), book, guard::isTripped,
                guard::pendingRemovals, () -> {
                    UserIndex.Counts c = index.counts();
                    return new int[] {c.users(), c.unresolved(), c.conflicting()};
                }, this::orphanCount);
        metrics.publish(perVm);
        metrics.registerBases(() -> bases.counts(metrics.changedBases(), b -> {
            org.ievirsh.image.Inspection known = inspections.knownBase(b.name(), b.version());
            return known != null && known.state() == org.ievirsh.image.Inspection.State.INSECURE;
        }));
        io.micrometer.core.instrument.FunctionCounter.builder("ievirsh.lease.file.errors", addresses,
                        AddressBook::leaseFileErrors)
                .description("Failed reads of the DHCP lease files (missing, unreadable, too large); the log says which")
                .register(metrics.registry());
        io.micrometer.core.instrument.Gauge.builder("ievirsh.lease.conflicts", addresses, AddressBook::leaseConflicts)
                .description("MACs holding DHCP leases to more than one address at once (none of them believed: a"
                        + " guest may have taken another VM's MAC); the log says which")
                .register(metrics.registry());
    }

    private Result handle(Key key) {
        if (key instanceof Key.User user) {
            return users.reconcile(user.user());
        }
        if (key instanceof Key.Blade blade) {
            return bladeReconciler.reconcile(blade.blade());
        }
        return discovery.reconcile();
    }

    private void handled(Key key, String outcome, Duration took) {
        if (key instanceof Key.User user) {
            metrics.reconciled(outcome, took);
            passes.passed(user.user());
        }
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

    /** Starts everything: blade links, workers, watching, then discovery once the blades answered, and resync. */
    public synchronized void start() {
        if (running) {
            return;
        }
        running = true;
        startedAt = clock.instant();
        templates.reload();
        bases.refresh();
        try {
            watcher = new DirectoryWatcher(this::studentDirectoryChanged, user -> queue.add(new Key.User(user)),
                    () -> queue.add(new Key.Discovery()));
        } catch (org.ievirsh.posix.PosixException e) {
            LOG.warning("file watching is off (" + e.getMessage() + "); changes are seen at each resync");
        }
        owners.onLateAnswer(() -> queue.add(new Key.Discovery()));
        discovery = new DiscoveryReconciler(directories, config.images().root(), index, owners, users, watcher,
                passes, user -> queue.addRoutine(new Key.User(user))).tellingUnresolved(fleet, Reconcilers.statusWriter(clock),
                        () -> this.config.users().maxFiles())
                .skippingRetries(user -> queue.retrying(new Key.User(user)));
        addresses.start();
        for (Blade blade : fleet.blades()) {
            blade.link().start(new Listener(blade));
        }
        engine.start();
        // The first discovery waits until every blade has been listed or has failed to connect, at most for the
        // startup grace: reconciling before would only tell every student "waiting for a blade".
        startupDeadline = ticker.schedule(this::startDiscovery,
                Duration.ofNanos(Math.max(5_000_000_000L, config.resync().toNanos() * 2)));
        startDiscoveryIfBladesAnswered();
        scheduleResync();
        LOG.info("controller started: " + config.blades().size() + " blades, " + config.workers()
                + " workers, resync every " + config.resync().toSeconds() + "s, watching "
                + config.users().directories());
    }

    /** Listener hears one blade's link; it runs on libvirt's event thread, so it only queues keys. */
    private final class Listener implements BladeLink.Listener {
        private final Blade blade;

        Listener(Blade blade) {
            this.blade = blade;
        }

        @Override
        public void onConnected(String name) {
            blade.connected();
            queue.add(new Key.Blade(name));
        }

        @Override
        public void onDisconnected(String name, String reason) {
            blade.disconnected(clock.instant());
            metrics.bladeConnectionError(name);
            blade.view().users().forEach(u -> queue.add(new Key.User(u)));
        }

        @Override
        public void onEvent(LifecycleEvent event) {
            if (event.kind() == LifecycleEvent.Kind.AGENT_CONNECTED) {
                addresses.agentConnected(event.uuid());
                return;
            }
            if (blade.view().queueEvent(event)) {
                queue.add(new Key.Blade(event.blade()));
            }
        }

        @Override
        public void onConnectFailed(String name, String reason) {
            blade.unansweredSince(startedAt);
            startDiscoveryIfBladesAnswered();
        }
    }

    private void startDiscoveryIfBladesAnswered() {
        boolean answered = fleet.blades().stream()
                .allMatch(b -> b.view().isListed() || b.link().attempted() && !b.view().isUp());
        if (answered) {
            startDiscovery();
        }
    }

    private synchronized void startDiscovery() {
        if (running && !discoveryStarted) {
            discoveryStarted = true;
            if (startupDeadline != null) {
                startupDeadline.cancel();
            }
            queue.add(new Key.Discovery());
            provisionCourses();
        }
    }

    /**
     * Queues one round of the course provisioner (a round already queued
     * covers this call too): every student of every course gets the
     * course's VM files not written for them yet.
     */
    private void provisionCourses() {
        if (config.courses().isEmpty() || !courseRoundQueued.compareAndSet(false, true)) {
            return;
        }
        try {
            courseRounds.execute(() -> {
                courseRoundQueued.set(false);
                try {
                    if (running) {
                        courses.provision(config);
                    }
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "course round failed", e);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            courseRoundQueued.set(false);  // closing
        }
    }

    /**
     * Asks {@code members} who is in the courses' groups (NSS unless a test
     * plays the groups); before {@link #start} only.
     */
    public synchronized void courseMembers(CourseMembers members) {
        if (running) {
            throw new IllegalStateException("the controller runs already");
        }
        if (courseMeters != null) {
            courseMeters.courses(java.util.Set.of());
        }
        // A student who just got course files is looked up afresh: their groups make the files valid.
        courses = new CourseProvisioner(directories, members, uids -> {
            uids.forEach(owners::refresh);
            queue.add(new Key.Discovery());
        });
        classroom = new Classroom(() -> this.config, book, members, courses);
        courseMeters = new CourseMeters(metrics.registry(), book, courses);
        courseMeters.courses(config.courses().keySet());
    }

    /** The config in force now. */
    public ControllerConfig config() {
        return config;
    }

    /** The course provisioner (what each course's students have, for {@code course list}). */
    public CourseProvisioner courses() {
        return courses;
    }

    /** Where students' snapshot requests are answered. */
    public SnapshotDesk snapshots() {
        return snapshots;
    }

    /** What instructors may see and reach. */
    public Classroom classroom() {
        return classroom;
    }

    /** Which consoles instructors have open (shown in the students' statuses). */
    public ConsoleWatch consoleWatch() {
        return watch;
    }

    private void scheduleResync() {
        resync = ticker.schedule(() -> {
            if (running) {
                resync();
                scheduleResync();
            }
        }, config.resync());
    }

    /**
     * Applies a new config that validated (the config is
     * live): blades added, reconfigured (schedulable, reserved, capacity,
     * drain) or retired (a blade left out keeps its VMs, untouched: it is
     * only forgotten); quota, templates, lifecycle, addresses, migration,
     * bladeDown and the deletion guard at once; every student is looked at
     * afresh. Returns what the new config changes that needs a restart.
     */
    public synchronized List<String> reconfigure(ControllerConfig fresh) {
        ControllerConfig old = config;
        List<String> restart = new ArrayList<>();
        List<Blade> connect = new ArrayList<>();
        if (!old.http().equals(fresh.http())) {
            restart.add("http");
        }
        if (!old.console().socket().equals(fresh.console().socket())) {
            restart.add("console.socket");
        }
        if (!old.ha().equals(fresh.ha())) {
            restart.add("ha");
        }
        if (!old.users().directories().equals(fresh.users().directories())
                || old.users().minUid() != fresh.users().minUid()) {
            restart.add("users.directories and users.minUid");
        }
        if (!old.images().equals(fresh.images())) {
            restart.add("images");
        }
        if (!old.baseImages().equals(fresh.baseImages())) {
            restart.add("baseImages");
        }
        if (old.workers() != fresh.workers()) {
            restart.add("workers");
        }
        for (ControllerConfig.Blade blade : fresh.blades()) {
            Optional<Blade> known = fleet.blade(blade.name());
            if (known.isPresent() && !known.get().retired() && known.get().config().uri().equals(blade.uri())) {
                known.get().reconfigure(blade);
            } else if (known.isPresent()) {
                restart.add("the uri of blade " + blade.name());
            } else {
                Blade added = new Blade(blade, links.apply(blade));
                fleet.add(added);
                metrics.registerBlade(new BladeMeters(added, fleet, u -> index.get(u).isPresent()));
                connect.add(added);
                LOG.info("config: blade " + blade.name() + " added (" + blade.uri() + ")");
            }
        }
        for (Blade blade : fleet.blades()) {
            if (!blade.retired() && fresh.blades().stream().noneMatch(b -> b.name().equals(blade.name()))) {
                blade.retire();
                LOG.warning("config: blade " + blade.name() + " is no longer in the config: it is forgotten, and its "
                        + blade.view().allocated()[2] + " VMs stay there as they are (shown unreachable)");
            }
        }
        templates.directory(fresh.templates());
        guard.reconfigure(fresh.deletionGuard());
        addresses.reconfigure(fresh.addresses());
        config = fresh;
        reportTemplates(templates.reload());
        users.forgetProofs();
        // New blades connect only now: once one is up, everything else of the new config (quota above all)
        // is in force, so no VM is admitted under the old rules onto the new blade.
        if (running) {
            connect.forEach(blade -> blade.link().start(new Listener(blade)));
        }
        index.users().forEach(user -> queue.add(new Key.User(user)));
        courseMeters.courses(fresh.courses().keySet());
        if (discoveryStarted) {
            provisionCourses();
        }
        return restart;
    }

    private void resync() {
        try {
            if (passes.running()) {
                // The last pass is not over (many students, a slow blade): a new one now would only queue
                // every user again behind it. The next tick tries again.
                LOG.fine(() -> "resync skipped: " + passes.left() + " users of the last pass are not done yet");
                return;
            }
            reportTemplates(templates.reload());
            bases.refresh();
            // Events keep the views current while a blade is connected; a full listing is a safety net,
            // taken after a reconnect and every FULL_LISTING, not at every resync.
            long now = ticker.nanoTime();
            if (now - lastFullListing > FULL_LISTING.toNanos()) {
                lastFullListing = now;
                for (Blade blade : fleet.blades()) {
                    blade.fullRefreshDue();
                    queue.addRoutine(new Key.Blade(blade.name()));
                }
            }
            if (discoveryStarted) {
                queue.addRoutine(new Key.Discovery());
                provisionCourses();
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "resync failed", e);
        }
    }

    private static void reportTemplates(Map<String, String> problems) {
        problems.forEach((name, problem) -> LOG.fine(() -> "template problem: " + problem));
    }

    private void studentDirectoryChanged(Path directory) {
        index.userOf(directory).ifPresent(user -> queue.add(new Key.User(user)));
    }

    /** True when the last pass over {@code user} ended clean and the next can tell from a few stats it need not. */
    public boolean quiet(String user) {
        return users.quiet(user);
    }

    /** How many passes over a student read their files afresh, no stat proof standing (a benchmark's figure). */
    public long readAfresh() {
        return users.readAfresh();
    }

    /** How long the last full pass (discovery, then every user once) took. */
    public Duration lastPass() {
        return passes.lastDuration();
    }

    /** How many full passes ended since the start (tests wait for one to see that nothing changed). */
    public int passesCompleted() {
        return passes.completed();
    }

    /** Ready: a blade is connected and every user was reconciled once. */
    public boolean isReady() {
        return passes.firstDone() && fleet.blades().stream().anyMatch(b -> b.view().isUp());
    }

    /** Why the controller is not ready, for {@code /readyz}. */
    @Override
    public String readiness() {
        if (fleet.blades().stream().noneMatch(b -> b.view().isUp())) {
            return "no blade is connected";
        }
        return passes.firstDone() ? "ready" : "the first pass over the students' directories is not done";
    }

    /** Healthy: every worker lives (a dead one is replaced within a second). */
    @Override
    public boolean healthy() {
        return running && engine.healthy();
    }

    @Override
    public boolean ready() {
        return isReady();
    }

    /**
     * True while this controller leads: it runs. (With {@code ha}, a
     * controller is started only once it holds the lock.)
     */
    public boolean leading() {
        return running;
    }

    /**
     * How long the controller has gone without completing a pass: since the
     * last one ended, or since it started when none has ended since.
     */
    public Duration sinceProgress() {
        Duration sinceStart = startedAt == null ? Duration.ZERO : Duration.between(startedAt, clock.instant());
        Duration sincePass = passes.completed() == 0 ? sinceStart : passes.sinceLastDone();
        return sincePass.compareTo(sinceStart) < 0 ? sincePass : sinceStart;
    }

    public StatusBook statuses() {
        return book;
    }

    public Fleet fleet() {
        return fleet;
    }

    public AddressBook addresses() {
        return addresses;
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

    /** True when no key waits and none is being handled (see {@link WorkQueue#idle}): for tests. */
    public boolean idle() {
        return queue.idle();
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
        if (resync != null) {
            resync.cancel();
        }
        if (startupDeadline != null) {
            startupDeadline.cancel();
        }
        if (watcher != null) {
            watcher.close();
        }
        engine.close();
        courseRounds.shutdownNow();
        metrics.unpublish(perVm);
        perVm.close();
        inspections.close();
        addresses.close();
        migrations.close();
        for (Blade blade : fleet.blades()) {
            blade.link().close();
        }
        if (ownTicker != null) {
            ownTicker.close();
        }
        LOG.info("controller stopped; VMs are left as they are");
    }
}
