package org.ievirsh.reconcile;

import java.time.Duration;
import java.util.Collection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;
import org.ievirsh.engine.Ticker;

/**
 * Passes keeps track of full passes: a pass is every student found by one
 * discovery, reconciled once. Its duration is the resync figure admins
 * watch; the end of the first one lets removals be weighed (the deletion
 * guard) and makes the controller ready; the end of any shows the
 * controller still makes progress (the standby's watchdog).
 */
public final class Passes {
    private static final Logger LOG = Logger.getLogger(Passes.class.getName());

    private final Ticker ticker;
    private final Runnable firstDone;
    private final Set<String> left = ConcurrentHashMap.newKeySet();
    private volatile long startedAt;
    private volatile long lastDoneAt;
    private volatile Duration last = Duration.ZERO;
    private volatile boolean first;
    private volatile int completed;

    /** {@code firstDone} runs once, when the first pass since the start ends. */
    public Passes(Ticker ticker, Runnable firstDone) {
        this.ticker = ticker;
        this.firstDone = firstDone;
        this.lastDoneAt = ticker.nanoTime();
    }

    /** True while a pass is under way (a resync then waits for it). */
    public boolean running() {
        return !left.isEmpty();
    }

    /** How many users the pass under way still has to go. */
    public int left() {
        return left.size();
    }

    /** Begins a pass over {@code users} unless one is under way. */
    public void begin(Collection<String> users) {
        if (!left.isEmpty()) {
            return;
        }
        startedAt = ticker.nanoTime();
        left.addAll(users);
        if (left.isEmpty()) {
            done();
        }
    }

    /** {@code user} was reconciled. */
    public void passed(String user) {
        if (left.remove(user) && left.isEmpty()) {
            done();
        }
    }

    private synchronized void done() {
        long now = ticker.nanoTime();
        last = Duration.ofNanos(now - startedAt);
        lastDoneAt = now;
        completed++;
        if (!first) {
            first = true;
            LOG.info("first pass done in " + last.toMillis() + " ms");
            firstDone.run();
        }
    }

    /** How long the last full pass took. */
    public Duration lastDuration() {
        return last;
    }

    /** True once the first pass since the start is over. */
    public boolean firstDone() {
        return first;
    }

    /** How many passes ended since the start. */
    public int completed() {
        return completed;
    }

    /**
     * How long the controller has gone without completing a pass, given how
     * long it has run: since the last one ended, or since the start when none
     * has ended since.
     */
    public Duration sinceProgress(Duration sinceStart) {
        Duration sincePass = completed == 0 ? sinceStart : sinceLastDone();
        return sincePass.compareTo(sinceStart) < 0 ? sincePass : sinceStart;
    }

    /** How long ago the last pass ended (since the start, before the first). */
    public Duration sinceLastDone() {
        return Duration.ofNanos(ticker.nanoTime() - lastDoneAt);
    }
}
