package org.ievirsh.controller;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.logging.Logger;
import org.ievirsh.posix.Systemd;

/**
 * ProgressWatchdog ends a leader that no longer makes progress (no
 * completed pass for {@link #LIMIT} resync intervals: a hung call, a dead
 * lock), so that its {@code ha.lockFile} is released and a standby takes
 * over; a systemd unit with {@code Restart=} starts it again. While the
 * controller makes progress (and while it is a standby) it tells systemd
 * {@code WATCHDOG=1}, so {@code WatchdogSec} catches a process that hangs
 * altogether.
 */
final class ProgressWatchdog implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ProgressWatchdog.class.getName());
    /** How many resync intervals without a completed pass a leader may go. */
    static final int LIMIT = 3;

    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "watchdog");
        t.setDaemon(true);
        return t;
    });
    private final Supplier<Controller> leader;
    private final Duration resync;
    private final Systemd systemd;
    private final Runnable exit;

    ProgressWatchdog(Supplier<Controller> leader, Duration resync, Systemd systemd, Runnable exit) {
        this.leader = leader;
        this.resync = resync;
        this.systemd = systemd;
        this.exit = exit;
    }

    /** True when {@code sinceProgress} is past what a working controller needs. */
    static boolean stalled(Duration sinceProgress, Duration resync) {
        return sinceProgress.compareTo(resync.multipliedBy(LIMIT)) > 0;
    }

    /** How often it looks: often enough for systemd's watchdog and for a tenth of the limit. */
    Duration period() {
        Duration period = resync.multipliedBy(LIMIT).dividedBy(10);
        if (systemd.watchdog().isPresent()) {
            Duration half = systemd.watchdog().get().dividedBy(2);
            period = half.compareTo(period) < 0 ? half : period;
        }
        return period.compareTo(Duration.ofMillis(100)) < 0 ? Duration.ofMillis(100) : period;
    }

    void start() {
        long millis = period().toMillis();
        thread.scheduleWithFixedDelay(this::check, millis, millis, TimeUnit.MILLISECONDS);
    }

    void check() {
        Controller controller = leader.get();
        if (controller != null && controller.leading()) {
            Duration since = controller.sinceProgress();
            if (stalled(since, resync)) {
                LOG.severe("no pass completed for " + since.toSeconds() + "s (" + LIMIT + " resync intervals of "
                        + resync.toSeconds() + "s): the controller exits so that another can lead; its workers"
                        + " and blade links were here:\n" + whereThreadsAre());
                exit.run();
                return;
            }
        }
        systemd.notify("WATCHDOG=1");
    }

    /** Where the reconcile workers and the blade links are now (what a stalled pass waits for). */
    static String whereThreadsAre() {
        StringBuilder where = new StringBuilder();
        Thread.getAllStackTraces().forEach((thread, stack) -> {
            if (thread.getName().startsWith("reconcile-") || thread.getName().startsWith("blade-")) {
                where.append("  ").append(thread.getName()).append(" (").append(thread.getState()).append(")\n");
                for (int i = 0; i < Math.min(stack.length, 12); i++) {
                    where.append("    at ").append(stack[i]).append('\n');
                }
            }
        });
        return where.toString();
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
