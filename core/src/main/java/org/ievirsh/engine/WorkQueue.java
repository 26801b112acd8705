package org.ievirsh.engine;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * WorkQueue holds keys to reconcile, never events, as client-go's workqueue:
 *
 * <ul>
 *   <li>a key waiting in the queue is there once, however often it is added;</li>
 *   <li>a key being processed is not handed out again until {@link #done};
 *       if it was added meanwhile, it comes back after that;</li>
 *   <li>{@link #addRateLimited} waits per key, doubling from 1 second up to
 *       5 minutes, until {@link #forget} says the key succeeded; while a key
 *       waits out its back-off, adding it again (a resync, a file event)
 *       does not bring it forward: a failing student cannot make their
 *       failure repeat faster by touching files;</li>
 *   <li>keys added by the periodic resync wait behind keys added because
 *       something changed, so a student's edit is not stuck behind ten
 *       thousand routine checks.</li>
 * </ul>
 *
 * <p>Delays are measured and waited for on an injected {@link Ticker}.
 */
public final class WorkQueue<K> implements AutoCloseable {
    static final Duration BASE_DELAY = Duration.ofSeconds(1);
    static final Duration MAX_DELAY = Duration.ofMinutes(5);
    /**
     * LONGEST_WAIT caps a delayed key's wait: a key due later (a VM that
     * expires in the year 9999) comes after a day, is looked at and asks for
     * the rest again. Without the cap the wait overflows nanoseconds.
     */
    public static final Duration LONGEST_WAIT = Duration.ofDays(1);

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition available = lock.newCondition();
    private final ArrayDeque<K> urgent = new ArrayDeque<>();
    private final ArrayDeque<K> routine = new ArrayDeque<>();
    private final Map<K, Boolean> waiting = new HashMap<>();
    private final Set<K> processing = new HashSet<>();
    private final Set<K> dirtyWhileProcessing = new HashSet<>();
    private final Map<K, Integer> failures = new HashMap<>();
    private final Map<K, Long> scheduled = new HashMap<>();
    /** Keys whose next run is a retry after a failure: adding them does not bring it forward. */
    private final Set<K> backingOff = new HashSet<>();
    private final Ticker ticker;
    private final Duration baseDelay;
    private final Duration maxDelay;
    private boolean shutDown;

    public WorkQueue(Ticker ticker) {
        this(ticker, BASE_DELAY, MAX_DELAY);
    }

    WorkQueue(Ticker ticker, Duration baseDelay, Duration maxDelay) {
        this.ticker = ticker;
        this.baseDelay = baseDelay;
        this.maxDelay = maxDelay;
    }

    /** Adds a key because something changed: it goes before routine keys. */
    public void add(K key) {
        enqueue(key, true);
    }

    /** Adds a key for the periodic resync: it waits behind keys added by {@link #add}. */
    public void addRoutine(K key) {
        enqueue(key, false);
    }

    private void enqueue(K key, boolean isUrgent) {
        lock.lock();
        try {
            if (shutDown || backingOff.contains(key)) {
                return;
            }
            if (processing.contains(key)) {
                dirtyWhileProcessing.add(key);
                return;
            }
            Boolean queuedUrgent = waiting.get(key);
            if (queuedUrgent != null) {
                if (isUrgent && !queuedUrgent) {
                    routine.remove(key);
                    urgent.addLast(key);
                    waiting.put(key, true);
                }
                return;
            }
            waiting.put(key, isUrgent);
            (isUrgent ? urgent : routine).addLast(key);
            available.signal();
        } finally {
            lock.unlock();
        }
    }

    /** Adds the key after {@code delay}; of several pending delays of one key, the earliest wins. */
    public void addAfter(K key, Duration delay) {
        schedule(key, delay, false);
    }

    private void schedule(K key, Duration asked, boolean retry) {
        Duration delay = asked.compareTo(LONGEST_WAIT) > 0 ? LONGEST_WAIT : asked;
        long due = ticker.nanoTime() + delay.toNanos();
        lock.lock();
        try {
            if (shutDown) {
                return;
            }
            if (retry) {
                backingOff.add(key);
            }
            if (delay.isZero() || delay.isNegative()) {
                backingOff.remove(key);
            } else {
                Long already = scheduled.get(key);
                if (already != null && already - due <= 0) {
                    return;
                }
                scheduled.put(key, due);
            }
        } finally {
            lock.unlock();
        }
        if (delay.isZero() || delay.isNegative()) {
            add(key);
            return;
        }
        ticker.schedule(() -> {
            lock.lock();
            try {
                Long mine = scheduled.get(key);
                if (mine == null || mine != due) {
                    return;
                }
                scheduled.remove(key);
                backingOff.remove(key);
            } finally {
                lock.unlock();
            }
            add(key);
        }, delay);
    }

    /** Adds the key after its own back-off, which doubles with each failure until {@link #forget}. */
    public Duration addRateLimited(K key) {
        Duration delay;
        lock.lock();
        try {
            int n = failures.merge(key, 1, Integer::sum);
            delay = backoff(n);
        } finally {
            lock.unlock();
        }
        schedule(key, delay, true);
        return delay;
    }

    Duration backoff(int failuresSoFar) {
        long millis = baseDelay.toMillis() << Math.min(failuresSoFar - 1, 20);
        return Duration.ofMillis(Math.min(millis, maxDelay.toMillis()));
    }

    /** Forgets the key's failures: its next back-off starts again at 1 second. */
    public void forget(K key) {
        lock.lock();
        try {
            failures.remove(key);
            backingOff.remove(key);
        } finally {
            lock.unlock();
        }
    }

    /** True while the key waits for its retry after a failure (a resync does not bring it forward). */
    public boolean retrying(K key) {
        lock.lock();
        try {
            return backingOff.contains(key);
        } finally {
            lock.unlock();
        }
    }

    /** How many times the key failed since it last succeeded. */
    public int failures(K key) {
        lock.lock();
        try {
            return failures.getOrDefault(key, 0);
        } finally {
            lock.unlock();
        }
    }

    /** Takes the next key, waiting up to {@code timeout}; empty on timeout or shutdown. */
    public Optional<K> take(Duration timeout) throws InterruptedException {
        long nanos = timeout.toNanos();
        lock.lock();
        try {
            while (urgent.isEmpty() && routine.isEmpty()) {
                if (shutDown || nanos <= 0) {
                    return Optional.empty();
                }
                nanos = available.awaitNanos(nanos);
            }
            K key = !urgent.isEmpty() ? urgent.pollFirst() : routine.pollFirst();
            waiting.remove(key);
            processing.add(key);
            return Optional.of(key);
        } finally {
            lock.unlock();
        }
    }

    /** Marks the key finished; if it was added while it ran, it is queued again. */
    public void done(K key) {
        lock.lock();
        try {
            processing.remove(key);
            if (dirtyWhileProcessing.remove(key) && !shutDown) {
                waiting.put(key, true);
                urgent.addLast(key);
                available.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * True when no key waits and none is being processed, read at one
     * instant: a key that asks to be handled again at once (a spin) is
     * always one or the other, so it never lets the queue be idle. Keys
     * delayed to a later time do not count.
     */
    public boolean idle() {
        lock.lock();
        try {
            return urgent.isEmpty() && routine.isEmpty() && processing.isEmpty();
        } finally {
            lock.unlock();
        }
    }

    /** Keys waiting now (not counting those being processed or delayed). */
    public int depth() {
        lock.lock();
        try {
            return urgent.size() + routine.size();
        } finally {
            lock.unlock();
        }
    }

    /** Keys being processed now. */
    public int active() {
        lock.lock();
        try {
            return processing.size();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            shutDown = true;
            available.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
