package org.ievirsh.support;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.PriorityQueue;
import org.ievirsh.engine.Ticker;

/**
 * ManualTime is a clock and a ticker that stand still until a test moves
 * them: {@link #advance} runs every task that falls due on the way, in
 * order, on the test's thread. Nothing waits for real time.
 */
public final class ManualTime extends Clock implements Ticker {
    private final Instant origin;
    private final PriorityQueue<Task> tasks = new PriorityQueue<>();
    private long nanos;
    private long sequence;

    private final class Task implements Comparable<Task>, Scheduled {
        final long due;
        final long order = sequence++;
        final Runnable body;
        volatile boolean cancelled;

        Task(long due, Runnable body) {
            this.due = due;
            this.body = body;
        }

        @Override
        public int compareTo(Task other) {
            return due != other.due ? Long.compare(due, other.due) : Long.compare(order, other.order);
        }

        @Override
        public void cancel() {
            cancelled = true;
        }
    }

    public ManualTime(Instant origin) {
        this.origin = origin;
    }

    public ManualTime() {
        this(Instant.parse("2026-12-01T12:00:00Z"));
    }

    @Override
    public synchronized long nanoTime() {
        return nanos;
    }

    @Override
    public synchronized Scheduled schedule(Runnable task, Duration delay) {
        Task t = new Task(nanos + Math.max(0, delay.toNanos()), task);
        tasks.add(t);
        return t;
    }

    /** Moves time on by {@code step}, running each task as its time comes. */
    public void advance(Duration step) {
        long target;
        synchronized (this) {
            target = nanos + step.toNanos();
        }
        while (true) {
            Task next;
            synchronized (this) {
                next = tasks.peek();
                if (next == null || next.due > target) {
                    nanos = target;
                    return;
                }
                tasks.poll();
                nanos = Math.max(nanos, next.due);
            }
            if (!next.cancelled) {
                next.body.run();
            }
        }
    }

    /** How many tasks wait for their time. */
    public synchronized int pending() {
        return (int) tasks.stream().filter(t -> !t.cancelled).count();
    }

    @Override
    public synchronized Instant instant() {
        return origin.plusNanos(nanos);
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        throw new UnsupportedOperationException("ManualTime is UTC");
    }
}
