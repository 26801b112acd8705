package org.ievirsh.controller;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.logging.Logger;
import org.ievirsh.address.AddressBook;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.blade.Blade;
import org.ievirsh.blade.Fleet;
import org.ievirsh.blade.Migrations;
import org.ievirsh.course.Classroom;
import org.ievirsh.course.ConsoleWatch;
import org.ievirsh.course.CourseMembers;
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
import org.ievirsh.libvirt.BladeLink;
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
    public static final Duration FULL_LISTING = Rounds.FULL_LISTING;

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
    private final CourseRounds courses;
    private final ConsoleWatch watch = new ConsoleWatch();
    private final SnapshotDesk snapshots;
    private DirectoryWatcher watcher;
    private volatile boolean running;
    private final Rounds rounds;

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
        this.inspections = Inspections.of(config.images(), images, metrics, clock);
        this.passes = new Passes(this.ticker, () -> {
            guard.firstPassDone();
            LOG.info("first pass over " + index.users().size() + " users done");
        });
        this.addresses = new AddressBook(config.addresses(), clock,
                blade -> fleet.blade(blade).flatMap(Blade::hypervisor), this::wake);
        this.migrations = new Migrations(fleet, () -> this.config.migration(), metrics.registry(), clock, this::wake);
        this.users = Reconcilers.users(() -> this.config, index, directories, templates, images, inspections, fleet, book, guard,
                metrics, perVm, addresses, migrations, bases, watch, clock, Clock.systemUTC(), this::wake);
        // A student who just got course files is looked up afresh: their groups make the files valid.
        this.courses = new CourseRounds(() -> this.config, () -> running, directories, book, metrics.registry(),
                uids -> {
                    uids.forEach(owners::refresh);
                    queue.add(new Key.Discovery());
                });
        courses.members(CourseMembers.nss());
        this.rounds = new Rounds(this.ticker, () -> this.config, () -> running, fleet, passes, templates, bases, queue,
                courses);
        this.bladeReconciler = new BladeReconciler(fleet, guard, index, this::wake, rounds::bladeAnswered);
        this.engine = new Engine<>(queue, this::handle, this::handled, config.workers(), this.ticker);
        this.snapshots = new SnapshotDesk(() -> this.config, fleet, book, metrics.registry(), this::wake);
        watch.onChange(this::wake);
        ControllerMeters.register(metrics, passes, queue, engine, fleet, index, book, guard, perVm, bases, inspections,
                addresses);
    }

    /** Queues {@code user}'s pass: something of theirs changed. */
    private void wake(String user) {
        queue.add(new Key.User(user));
    }

    private Result handle(Key key) {
        return key instanceof Key.User user ? users.reconcile(user.user())
                : key instanceof Key.Blade blade ? bladeReconciler.reconcile(blade.blade()) : discovery.reconcile();
    }

    private void handled(Key key, String outcome, Duration took) {
        if (key instanceof Key.User user) {
            metrics.reconciled(outcome, took);
            passes.passed(user.user());
        }
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
            watcher = new DirectoryWatcher(dir -> index.userOf(dir).ifPresent(this::wake), this::wake,
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
            blade.link().start(events(blade));
        }
        engine.start();
        rounds.start();
        LOG.info("controller started: " + config.blades().size() + " blades, " + config.workers()
                + " workers, resync every " + config.resync().toSeconds() + "s, watching "
                + config.users().directories());
    }

    private BladeEvents events(Blade blade) {
        return new BladeEvents(blade, queue::add, clock, metrics, addresses, () -> startedAt, rounds::bladeAnswered);
    }

    /**
     * Asks {@code members} who is in the courses' groups (NSS unless a test
     * plays the groups); before {@link #start} only.
     */
    public synchronized void courseMembers(CourseMembers members) {
        if (running) {
            throw new IllegalStateException("the controller runs already");
        }
        courses.members(members);
    }

    /** The config in force now. */
    public ControllerConfig config() {
        return config;
    }

    /** The course provisioner (what each course's students have, for {@code course list}). */
    public CourseProvisioner courses() {
        return courses.provisioner();
    }

    /** Where students' snapshot requests are answered. */
    public SnapshotDesk snapshots() {
        return snapshots;
    }

    /** What instructors may see and reach. */
    public Classroom classroom() {
        return courses.classroom();
    }

    /** Which consoles instructors have open (shown in the students' statuses). */
    public ConsoleWatch consoleWatch() {
        return watch;
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
        List<String> restart = new ArrayList<>(ConfigChecks.needRestart(old, fresh));
        List<Blade> connect = BladeChanges.apply(fleet, fresh.blades(), links, restart, added ->
                metrics.registerBlade(new BladeMeters(added, fleet, u -> index.get(u).isPresent())));
        templates.directory(fresh.templates());
        guard.reconfigure(fresh.deletionGuard());
        addresses.reconfigure(fresh.addresses());
        config = fresh;
        Rounds.reportTemplates(templates.reload());
        users.forgetProofs();
        // New blades connect only now: once one is up, everything else of the new config (quota above all)
        // is in force, so no VM is admitted under the old rules onto the new blade.
        if (running) {
            connect.forEach(blade -> blade.link().start(events(blade)));
        }
        index.users().forEach(this::wake);
        courses.reconfigured(fresh);
        if (rounds.discoveryStarted()) {
            courses.round();
        }
        return restart;
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

    /** Ready: a blade is connected and every user was reconciled once. */
    @Override
    public boolean ready() {
        return passes.firstDone() && fleet.blades().stream().anyMatch(b -> b.view().isUp());
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
        return passes.sinceProgress(startedAt == null ? Duration.ZERO : Duration.between(startedAt, clock.instant()));
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
        rounds.close();
        if (watcher != null) {
            watcher.close();
        }
        engine.close();
        courses.close();
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
