package org.ievirsh.image;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.image.guest.GuestInspector;
import org.ievirsh.image.guest.Sandbox;
import org.ievirsh.metrics.Metrics;
import org.ievirsh.posix.OpenFile;

/**
 * Inspections decides when an image is looked inside and remembers the
 * outcome per image version (inode, size, modification time): before a VM first starts
 * and before every start after its image changed. One look takes 15–25 s on
 * libguestfs' appliance, so looks run on a small executor of their own and
 * never hold up a reconcile; when one ends, the user is reconciled again.
 * An image whose VM runs is not looked at (QEMU holds it, and the guest
 * writes to it all the time): the look comes before its next start.
 */
public final class Inspections implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Inspections.class.getName());
    /** A failed look is tried again after this. */
    static final Duration RETRY = Duration.ofMinutes(5);
    /** A look that takes longer than this is killed and counts as failed. */
    static final Duration TIMEOUT = Duration.ofMinutes(5);
    private static final int REMEMBERED = 20_000;

    public enum Mode { ENFORCE, WARN, OFF }

    /**
     * Looks inside one image ({@code path}, opened as its owner
     * {@code uid}:{@code gid}); a seam for tests of what surrounds it.
     */
    public interface Looker {
        GuestInspector.Report look(String path, String format, int uid, int gid, Consumer<Runnable> onKill)
                throws Exception;

        /** Gets ready for the first look (builds what every look needs); called once, off the caller's thread. */
        default void prepare() throws Exception {
        }
    }

    private record Outcome(Inspection.State state, String message, Instant at) {
    }

    private final Mode mode;
    private final ImageChecker images;
    private final Looker looker;
    private final Metrics metrics;
    private final Clock clock;
    private final Map<String, Outcome> outcomes = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Outcome> eldest) {
            boolean forget = size() > REMEMBERED;
            if (forget) {
                generation.incrementAndGet();
            }
            return forget;
        }
    };
    private final Set<String> running = ConcurrentHashMap.newKeySet();
    private final AtomicLong generation = new AtomicLong();
    /** How to kill the look each worker runs now, for close. */
    private final Map<Thread, List<Runnable>> sessions = new ConcurrentHashMap<>();
    private final ExecutorService workers;
    private final ScheduledExecutorService watchdog;

    public Inspections(Mode mode, ImageChecker images, Looker looker, int workers, Metrics metrics, Clock clock) {
        this.mode = mode;
        this.images = images;
        this.looker = looker;
        this.metrics = metrics;
        this.clock = clock;
        AtomicInteger n = new AtomicInteger();
        this.workers = Executors.newFixedThreadPool(workers, r -> daemon(r, "inspection-" + n.incrementAndGet()));
        this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "inspection-watchdog"));
        if (mode != Mode.OFF) {
            this.workers.execute(() -> {
                try {
                    looker.prepare();
                } catch (Exception e) {
                    LOG.warning("looks inside images are not ready: " + e.getMessage() + "; each look tries again");
                }
            });
        }
    }

    /**
     * The controller's: the admin's {@code images.inspection} mode, guestfish
     * in a sandbox under {@code images.inspectionCache}, and a worker per four
     * cores (two to eight).
     */
    public static Inspections of(ControllerConfig.Images config, ImageChecker images, Metrics metrics, Clock clock) {
        return new Inspections(Mode.valueOf(config.inspection().toUpperCase(java.util.Locale.ROOT)), images,
                guestfish(new Sandbox(config.inspectionCache(), backendSettings())),
                Math.max(2, Math.min(8, Runtime.getRuntime().availableProcessors() / 4)), metrics, clock);
    }

    /** The real look: guestfish on the image, read-only, with the rights of the image's owner. */
    public static Looker guestfish(Sandbox sandbox) {
        GuestInspector inspector = new GuestInspector(sandbox);
        return new Looker() {
            @Override
            public GuestInspector.Report look(String path, String format, int uid, int gid,
                                              Consumer<Runnable> onKill) throws Exception {
                return inspector.inspect(path, format, uid, gid, onKill);
            }

            @Override
            public void prepare() throws Exception {
                inspector.prepare();
            }
        };
    }

    /** Where libguestfs runs its appliance: the admin's environment, else plain emulation (works anywhere). */
    public static String backendSettings() {
        String set = System.getenv("LIBGUESTFS_BACKEND_SETTINGS");
        return set != null ? set : "force_tcg";
    }

    public Mode mode() {
        return mode;
    }

    /** A number that changes whenever a look ends (what {@link #of} answers may then change). */
    public long generation() {
        return generation.get();
    }

    /**
     * What is known of {@code image} of {@code user} at {@code version}, read
     * as {@code format}: NONE when a look is needed (nothing known, or a
     * failed look is due again) and none runs; null when inspection is off.
     */
    public Inspection known(String user, String image, String version, String format) {
        if (mode == Mode.OFF || version.isEmpty()) {
            return null;
        }
        String key = key(user, image, version, format);
        Outcome known;
        synchronized (outcomes) {
            known = outcomes.get(key);
        }
        boolean enforced = mode == Mode.ENFORCE;
        if (known != null && !(known.state() == Inspection.State.FAILED
                && !clock.instant().isBefore(known.at().plus(RETRY)))) {
            Duration retry = known.state() == Inspection.State.FAILED
                    ? Duration.between(clock.instant(), known.at().plus(RETRY)) : null;
            return new Inspection(known.state(), enforced, known.message(), retry);
        }
        if (running.contains(key)) {
            return new Inspection(Inspection.State.INSPECTING, enforced, "looking inside " + image
                    + " for Vagrant's insecure SSH key and password before it starts (this takes about 20 s)", null);
        }
        return new Inspection(Inspection.State.NONE, enforced, "", null);
    }

    /**
     * Starts a look inside {@code image} of {@code user} (whose files are
     * {@code uid}:{@code gid}'s) at {@code version}, unless one runs;
     * {@code done} is called when it ends. Returns what is known now: the
     * look under way.
     */
    public Inspection start(String user, int uid, int gid, String image, String version, String format,
                            Runnable done) {
        String key = key(user, image, version, format);
        if (mode != Mode.OFF && running.add(key)) {
            try {
                workers.execute(() -> look(key, user, uid, gid, image, version, format, done));
            } catch (RejectedExecutionException e) {
                running.remove(key);  // closing: the controller stops
            }
        }
        return new Inspection(Inspection.State.INSPECTING, mode == Mode.ENFORCE, "looking inside " + image
                + " for Vagrant's insecure SSH key and password before it starts (this takes about 20 s)", null);
    }

    /** NOBODY is the uid a base is looked at with: it needs no more than reading it, which everyone may. */
    static final int NOBODY = 65534;

    /** What is known of the inside of base {@code name} at {@code version} (as {@link #known}). */
    public Inspection knownBase(String name, String version) {
        return known(BASE_OWNER, name, version, "qcow2");
    }

    /**
     * Starts a look inside base {@code name} ({@code path}, at {@code version}) with
     * the rights of nobody, unless one runs; {@code done} is called when it ends.
     */
    public Inspection startBase(String name, java.nio.file.Path path, String version, Runnable done) {
        String key = key(BASE_OWNER, name, version, "qcow2");
        if (mode != Mode.OFF && running.add(key)) {
            try {
                workers.execute(() -> lookAtBase(key, name, path, version, done));
            } catch (RejectedExecutionException e) {
                running.remove(key);
            }
        }
        return new Inspection(Inspection.State.INSPECTING, mode == Mode.ENFORCE, "looking inside the base image "
                + name + " before the first VM made from it starts (this takes about 20 s)", null);
    }

    /** The owner under which bases' outcomes are kept: no user can be called this (a name has no ':'). */
    private static final String BASE_OWNER = "base:";

    private void lookAtBase(String key, String name, java.nio.file.Path path, String version, Runnable done) {
        Instant started = clock.instant();
        Outcome outcome = null;
        String result = null;
        try {
            if (versionOf(path).equals(version)) {
                List<Future<?>> kills = new ArrayList<>();
                List<Runnable> active = sessions.computeIfAbsent(Thread.currentThread(),
                        t -> new CopyOnWriteArrayList<>());
                GuestInspector.Report report;
                try {
                    report = looker.look(path.toString(), "qcow2", NOBODY, NOBODY, kill -> {
                        active.add(kill);
                        kills.add(watchdog.schedule(kill, TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
                    });
                } finally {
                    kills.forEach(k -> k.cancel(false));
                    active.clear();
                }
                if (versionOf(path).equals(version)) {
                    outcome = report.insecure()
                            ? new Outcome(Inspection.State.INSECURE, "the base image " + name + " is not safe on the"
                            + " department network: " + String.join("; ", report.findings()) + "; it serves no VM"
                            + " until the admin replaces it (a new version is a new name)", clock.instant())
                            : new Outcome(Inspection.State.CLEAN, "", clock.instant());
                    result = report.insecure() ? "insecure" : "clean";
                }
            }
        } catch (Exception e) {
            LOG.log(Level.WARNING, "inspection of the base image " + name + " failed", e);
            outcome = new Outcome(Inspection.State.FAILED, "the base image " + name + " could not be looked inside ("
                    + e.getMessage() + "); tried again in " + RETRY.toMinutes() + " minutes", clock.instant());
            result = "failed";
        }
        if (outcome != null) {
            synchronized (outcomes) {
                outcomes.put(key, outcome);
                generation.incrementAndGet();
            }
            metrics.inspected(result, Duration.between(started, clock.instant()));
            LOG.info("inspected the base image " + name + ": " + result);
        }
        running.remove(key);
        done.run();
    }

    private static String versionOf(java.nio.file.Path path) throws org.ievirsh.posix.PosixException {
        return new org.ievirsh.posix.Lstat(path).now().map(org.ievirsh.posix.FileStat::contentVersion).orElse("");
    }

    private static String key(String user, String image, String version, String format) {
        return user + "/" + image + "@" + version + "/" + format;
    }

    private void look(String key, String user, int uid, int gid, String image, String version, String format,
                      Runnable done) {
        Instant started = clock.instant();
        Outcome outcome;
        String result;
        try (ImageChecker.Session session = images.open(user, uid, new ImageChecker.Memory());
             OpenFile file = session.openIfUnchanged(image, version)) {
            if (file == null) {
                // Changed since it was checked: the next reconcile sees the new version and asks again.
                outcome = null;
                result = null;
            } else {
                List<Future<?>> kills = new ArrayList<>();
                List<Runnable> active = sessions.computeIfAbsent(Thread.currentThread(),
                        t -> new CopyOnWriteArrayList<>());
                GuestInspector.Report report;
                try {
                    // The look opens the image by its path, as its owner: a file swapped in meanwhile is one the
                    // student could open anyway, and a look whose file changed under it is thrown away below.
                    report = looker.look(images.pathOf(user, image).toString(), format, uid, gid, kill -> {
                        active.add(kill);
                        kills.add(watchdog.schedule(kill, TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
                    });
                } finally {
                    kills.forEach(k -> k.cancel(false));
                    active.clear();
                }
                if (!session.unchanged(image, version)) {
                    outcome = null;
                    result = null;
                } else if (report.insecure()) {
                    outcome = new Outcome(Inspection.State.INSECURE, insecureMessage(image, report), clock.instant());
                    result = "insecure";
                } else {
                    outcome = new Outcome(Inspection.State.CLEAN, report.filesystems() == 0
                            ? "no filesystem in " + image + " (a blank disk)" : "", clock.instant());
                    result = "clean";
                }
            }
        } catch (Exception e) {
            LOG.log(Level.WARNING, "inspection of " + user + "/" + image + " failed", e);
            outcome = new Outcome(Inspection.State.FAILED, image + " could not be inspected (" + e.getMessage()
                    + "); tried again in " + RETRY.toMinutes() + " minutes. If this stays, tell an admin",
                    clock.instant());
            result = "failed";
        }
        if (outcome != null) {
            synchronized (outcomes) {
                outcomes.put(key, outcome);
                generation.incrementAndGet();
            }
            metrics.inspected(result, Duration.between(started, clock.instant()));
            LOG.info("inspected " + user + "/" + image + ": " + result);
        }
        running.remove(key);
        done.run();
    }

    static String insecureMessage(String image, GuestInspector.Report report) {
        return image + " is not safe on the department network: " + String.join("; ", report.findings())
                + ". To fix it, for example: virt-customize -a " + image
                + " --password vagrant:disabled --delete /home/vagrant/.ssh/authorized_keys"
                + " --delete /root/.ssh/authorized_keys (the image is looked at again before its next start)";
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    @Override
    public void close() {
        workers.shutdownNow();
        sessions.values().forEach(kills -> kills.forEach(Runnable::run));
        watchdog.shutdownNow();
    }
}
