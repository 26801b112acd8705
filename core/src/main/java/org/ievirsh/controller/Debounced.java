package org.ievirsh.controller;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Debounced runs a task a moment after it is asked for, once for every
 * burst of asks: an ask while a run waits to start joins it (the run will
 * see what the ask was about); an ask once a run has begun makes another
 * run after it, so that a change made while the last one was being read is
 * never lost. Runs are one at a time, on the given single thread.
 */
final class Debounced {
    private final ScheduledExecutorService thread;
    private final long delayMillis;
    private final Consumer<String> task;
    private boolean waiting;

    Debounced(ScheduledExecutorService thread, long delayMillis, Consumer<String> task) {
        this.thread = thread;
        this.delayMillis = delayMillis;
        this.task = task;
    }

    /** Asks for a run, for {@code why} (the first reason of a burst is the one given to the run). */
    synchronized void ask(String why) {
        if (waiting) {
            return;
        }
        waiting = true;
        thread.schedule(() -> {
            synchronized (this) {
                waiting = false;
            }
            task.accept(why);
        }, delayMillis, TimeUnit.MILLISECONDS);
    }
}
