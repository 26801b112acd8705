package org.ievirsh.engine;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/** SystemTicker is {@link Ticker} on {@link System#nanoTime} and one daemon timer thread. */
public final class SystemTicker implements Ticker, AutoCloseable {
    private final ScheduledThreadPoolExecutor timer;

    public SystemTicker(String threadName) {
        timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true);
    }

    @Override
    public long nanoTime() {
        return System.nanoTime();
    }

    @Override
    public Scheduled schedule(Runnable task, Duration delay) {
        if (timer.isShutdown()) {
            return () -> { };
        }
        // Nanoseconds overflow past 292 years: anything beyond a day waits a day (WorkQueue.LONGEST_WAIT).
        Duration wait = delay.compareTo(WorkQueue.LONGEST_WAIT) > 0 ? WorkQueue.LONGEST_WAIT : delay;
        ScheduledFuture<?> future = timer.schedule(task, Math.max(0, wait.toNanos()), TimeUnit.NANOSECONDS);
        return () -> future.cancel(false);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
