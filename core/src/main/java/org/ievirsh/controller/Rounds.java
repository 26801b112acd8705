package org.ievirsh.controller;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.blade.Blade;
import org.ievirsh.blade.Fleet;
import org.ievirsh.engine.Key;
import org.ievirsh.engine.Ticker;
import org.ievirsh.engine.WorkQueue;
import org.ievirsh.image.BaseImages;
import org.ievirsh.reconcile.Passes;
import org.ievirsh.template.TemplateLibrary;

/**
 * Rounds is the controller's timed work: the first discovery, once every
 * blade has been listed or has failed to connect (at most after the startup
 * grace: reconciling before would only tell every student "waiting for a
 * blade"); then a resync every {@code resync} (the catalogs read again,
 * every student and the courses queued); and a full listing of each blade
 * every {@link #FULL_LISTING}, a safety net beside its events.
 */
final class Rounds implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Controller.class.getName());
    /** FULL_LISTING is how often each blade is listed whole even when its events say nothing changed. */
    static final Duration FULL_LISTING = Duration.ofMinutes(5);

    private final Ticker ticker;
    private final Supplier<ControllerConfig> config;
    private final BooleanSupplier running;
    private final Fleet fleet;
    private final Passes passes;
    private final TemplateLibrary templates;
    private final BaseImages bases;
    private final WorkQueue<Key> queue;
    private final CourseRounds courses;
    private volatile long lastFullListing;
    private volatile boolean discoveryStarted;
    private Ticker.Scheduled resync;
    private Ticker.Scheduled startupDeadline;

    Rounds(Ticker ticker, Supplier<ControllerConfig> config, BooleanSupplier running, Fleet fleet, Passes passes,
           TemplateLibrary templates, BaseImages bases, WorkQueue<Key> queue, CourseRounds courses) {
        this.ticker = ticker;
        this.config = config;
        this.running = running;
        this.fleet = fleet;
        this.passes = passes;
        this.templates = templates;
        this.bases = bases;
        this.queue = queue;
        this.courses = courses;
        this.lastFullListing = ticker.nanoTime();
    }

    /** Starts the startup grace's clock and the resync; the first discovery comes when the blades answered. */
    synchronized void start() {
        Duration resyncEvery = config.get().resync();
        startupDeadline = ticker.schedule(this::startDiscovery,
                Duration.ofNanos(Math.max(5_000_000_000L, resyncEvery.toNanos() * 2)));
        bladeAnswered();
        scheduleResync();
    }

    /** A blade was listed or failed to connect: once every one has, the first discovery starts. */
    void bladeAnswered() {
        boolean answered = fleet.blades().stream()
                .allMatch(b -> b.view().isListed() || b.link().attempted() && !b.view().isUp());
        if (answered) {
            startDiscovery();
        }
    }

    /** True once the first discovery started (the courses' rounds wait for it). */
    boolean discoveryStarted() {
        return discoveryStarted;
    }

    private synchronized void startDiscovery() {
        if (running.getAsBoolean() && !discoveryStarted) {
            discoveryStarted = true;
            if (startupDeadline != null) {
                startupDeadline.cancel();
            }
            queue.add(new Key.Discovery());
            courses.round();
        }
    }

    private synchronized void scheduleResync() {
        resync = ticker.schedule(() -> {
            if (running.getAsBoolean()) {
                resync();
                scheduleResync();
            }
        }, config.get().resync());
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
                courses.round();
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "resync failed", e);
        }
    }

    /** A template that does not load is told to the admin by {@code ie-virsh validate}; here it is only logged. */
    static void reportTemplates(java.util.Map<String, String> problems) {
        problems.forEach((name, problem) -> LOG.fine(() -> "template problem: " + problem));
    }

    @Override
    public synchronized void close() {
        if (resync != null) {
            resync.cancel();
        }
        if (startupDeadline != null) {
            startupDeadline.cancel();
        }
    }
}
