package org.ievirsh.engine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Engine runs workers that take keys from a {@link WorkQueue}, hand each to
 * the {@link Handler}, and act on the {@link Result}: done forgets the key's
 * back-off, a requeue adds it again after its delay, a failure retries it
 * with back-off (or, terminal, waits for a change). One key never runs in two
 * workers at once (the queue sees to it). A worker never dies of what a key
 * does: everything thrown is caught, logged with the key and counted; a
 * worker that dies anyway (an {@link Error} in the logging itself) is
 * replaced by the supervisor within a second. A key that goes into error is
 * logged once at WARNING with its reason, and once more when it recovers.
 */
public final class Engine<K> implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Engine.class.getName());
    /** SUPERVISE is how often the supervisor looks for dead workers. */
    static final Duration SUPERVISE = Duration.ofSeconds(1);

    /** Handler reconciles one key. */
    public interface Handler<K> {
        Result handle(K key);
    }

    /** Listener hears how each key ended (success, requeue, error, terminal, panic) and how long it took. */
    public interface Listener<K> {
        void handled(K key, String outcome, Duration took);
    }

    private final WorkQueue<K> queue;
    private final Handler<K> handler;
    private final Listener<K> listener;
    private final Ticker ticker;
    private final int count;
    private final List<Thread> workers = new ArrayList<>();
    private final AtomicInteger active = new AtomicInteger();
    private final AtomicInteger replaced = new AtomicInteger();
    private final Set<K> failing = ConcurrentHashMap.newKeySet();
    private volatile boolean running;
    private Ticker.Scheduled supervisor;

    public Engine(WorkQueue<K> queue, Handler<K> handler, Listener<K> listener, int workers, Ticker ticker) {
        this.queue = queue;
        this.handler = handler;
        this.listener = listener;
        this.count = Math.max(1, workers);
        this.ticker = ticker;
    }

    /** Starts the workers and their supervisor. */
    public synchronized void start() {
        running = true;
        for (int i = 0; i < count; i++) {
            workers.add(startWorker(i));
        }
        supervise();
    }

    private Thread startWorker(int index) {
        Thread worker = new Thread(this::work, "reconcile-" + index);
        worker.setDaemon(true);
        worker.start();
        return worker;
    }

    private void supervise() {
        supervisor = ticker.schedule(() -> {
            synchronized (this) {
                if (!running) {
                    return;
                }
                for (int i = 0; i < workers.size(); i++) {
                    if (!workers.get(i).isAlive()) {
                        LOG.severe("worker " + workers.get(i).getName() + " died; a new one takes its place");
                        replaced.incrementAndGet();
                        workers.set(i, startWorker(i));
                    }
                }
            }
            supervise();
        }, SUPERVISE);
    }

    private void work() {
        while (running) {
            K key;
            try {
                key = queue.take(Duration.ofSeconds(1)).orElse(null);
            } catch (InterruptedException e) {
                return;
            }
            if (key != null) {
                process(key);
            }
        }
    }

    private void process(K key) {
        active.incrementAndGet();
        long started = ticker.nanoTime();
        String outcome;
        try {
            outcome = act(key, handler.handle(key));
        } catch (Throwable t) {
            LOG.log(Level.SEVERE, "reconcile of " + key + " failed unexpectedly", t);
            queue.addRateLimited(key);
            failing.add(key);
            outcome = "panic";
        } finally {
            queue.done(key);
            active.decrementAndGet();
        }
        listener.handled(key, outcome, Duration.ofNanos(ticker.nanoTime() - started));
    }

    private String act(K key, Result result) {
        if (result instanceof Result.Failed failed) {
            if (failing.add(key)) {
                LOG.warning(key + ": " + failed.reason() + (failed.retry() ? "; retried with back-off"
                        : "; not retried until something changes"));
            }
            if (failed.retry()) {
                queue.addRateLimited(key);
                return "error";
            }
            queue.forget(key);
            return "terminal";
        }
        queue.forget(key);
        if (failing.remove(key)) {
            LOG.info(key + ": recovered");
        }
        if (result instanceof Result.Requeue requeue) {
            queue.addAfter(key, requeue.after());
            return "requeue";
        }
        return "success";
    }

    /** Reconciles running now. */
    public int active() {
        return active.get();
    }

    /** True while every worker lives (a dead one is replaced within {@link #SUPERVISE}). */
    public synchronized boolean healthy() {
        return running && workers.stream().allMatch(Thread::isAlive);
    }

    /** How many workers died and were replaced since start. */
    public int replacedWorkers() {
        return replaced.get();
    }

    @Override
    public void close() {
        List<Thread> stopping;
        synchronized (this) {
            running = false;
            if (supervisor != null) {
                supervisor.cancel();
            }
            stopping = List.copyOf(workers);
        }
        queue.close();
        for (Thread worker : stopping) {
            try {
                worker.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
