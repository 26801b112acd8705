package org.ievirsh.engine;

import java.time.Duration;

/**
 * Ticker is where the engine reads time that only goes forward, and waits
 * for it: delayed keys, back-off, the resync and the progress watchdog.
 * Production uses the machine's monotonic clock and a timer thread
 * ({@link SystemTicker}); tests step a manual one, so that nothing in them
 * sleeps.
 */
public interface Ticker {

    /** Nanoseconds from an arbitrary origin; only differences mean anything. */
    long nanoTime();

    /**
     * Runs {@code task} once {@code delay} has passed, on the ticker's own
     * thread (keep it short: hand work to a queue); the handle cancels it.
     */
    Scheduled schedule(Runnable task, Duration delay);

    /** Scheduled is a task waiting for its time. */
    interface Scheduled {
        void cancel();
    }
}
