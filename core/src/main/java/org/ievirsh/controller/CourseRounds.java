package org.ievirsh.controller;

import io.micrometer.core.instrument.MeterRegistry;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.course.Classroom;
import org.ievirsh.course.CourseMembers;
import org.ievirsh.course.CourseMeters;
import org.ievirsh.course.CourseProvisioner;
import org.ievirsh.status.StatusBook;
import org.ievirsh.users.UserDirectories;

/**
 * CourseRounds holds the controller's course parts (the provisioner, the
 * classroom instructors see, the course meters) and runs the provisioner's
 * rounds one at a time, on a thread of its own: NSS and the students' file
 * writes may take their time, and a round already queued covers every call
 * made meanwhile.
 */
final class CourseRounds implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(CourseRounds.class.getName());

    private final Supplier<ControllerConfig> config;
    private final BooleanSupplier running;
    private final UserDirectories directories;
    private final StatusBook book;
    private final MeterRegistry registry;
    private final Consumer<Set<Integer>> written;
    private final ExecutorService rounds = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "courses");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean queued = new AtomicBoolean();
    private volatile CourseProvisioner provisioner;
    private volatile Classroom classroom;
    private volatile CourseMeters meters;

    /** {@code written}: the uids of students who just got course files (looked up afresh: their groups count). */
    CourseRounds(Supplier<ControllerConfig> config, BooleanSupplier running, UserDirectories directories,
                 StatusBook book, MeterRegistry registry, Consumer<Set<Integer>> written) {
        this.config = config;
        this.running = running;
        this.directories = directories;
        this.book = book;
        this.registry = registry;
        this.written = written;
    }

    /** Asks {@code members} who is in the courses' groups (NSS unless a test plays the groups). */
    synchronized void members(CourseMembers members) {
        if (meters != null) {
            meters.courses(Set.of());
        }
        provisioner = new CourseProvisioner(directories, members, written);
        classroom = new Classroom(config, book, members, provisioner);
        meters = new CourseMeters(registry, book, provisioner);
        meters.courses(config.get().courses().keySet());
    }

    /** The courses of a new config: their meters follow. */
    void reconfigured(ControllerConfig fresh) {
        meters.courses(fresh.courses().keySet());
    }

    /** Queues one round: every student of every course gets the course's VM files not written for them yet. */
    void round() {
        if (config.get().courses().isEmpty() || !queued.compareAndSet(false, true)) {
            return;
        }
        try {
            rounds.execute(() -> {
                queued.set(false);
                try {
                    if (running.getAsBoolean()) {
                        provisioner.provision(config.get());
                    }
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "course round failed", e);
                }
            });
        } catch (RejectedExecutionException e) {
            queued.set(false);  // closing
        }
    }

    CourseProvisioner provisioner() {
        return provisioner;
    }

    Classroom classroom() {
        return classroom;
    }

    @Override
    public void close() {
        rounds.shutdownNow();
    }
}
