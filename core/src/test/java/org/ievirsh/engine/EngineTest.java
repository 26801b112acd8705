package org.ievirsh.engine;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.ievirsh.support.ManualTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class EngineTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private final ManualTime time = new ManualTime();
    private final WorkQueue<String> queue = new WorkQueue<>(time);
    private final Map<String, Result> results = new ConcurrentHashMap<>();
    private final List<String> outcomes = new CopyOnWriteArrayList<>();
    private Engine<String> engine;

    private void start(Engine.Listener<String> listener) {
        engine = new Engine<>(queue, key -> {
            Result r = results.getOrDefault(key, Result.done());
            if (r instanceof Result.Failed f && f.reason().equals("throw")) {
                throw new IllegalStateException("a bug in a reconcile");
            }
            return r;
        }, listener, 2, time);
        engine.start();
    }

    @AfterEach
    void stop() {
        engine.close();
    }

    @Test
    void aFailureIsRetriedWithBackOffAndSuccessForgetsIt() {
        start((key, outcome, took) -> outcomes.add(key + ":" + outcome));
        results.put("k", Result.error("libvirt refused"));
        queue.add("k");
        await().atMost(WAIT).until(() -> outcomes.contains("k:error"));
        assertEquals(1, queue.failures("k"));
        results.put("k", Result.done());
        time.advance(Duration.ofSeconds(1));
        await().atMost(WAIT).until(() -> outcomes.contains("k:success"));
        assertEquals(0, queue.failures("k"), "success forgets the back-off");
    }

    @Test
    void aTerminalFailureIsCountedAndWaitsForAChange() {
        start((key, outcome, took) -> outcomes.add(key + ":" + outcome));
        results.put("k", Result.terminal("libvirt refuses the definition"));
        queue.add("k");
        await().atMost(WAIT).until(() -> outcomes.contains("k:terminal"));
        time.advance(Duration.ofMinutes(10));
        assertEquals(List.of("k:terminal"), outcomes, "not retried by itself");
        queue.add("k");
        await().atMost(WAIT).until(() -> outcomes.size() == 2);
    }

    @Test
    void aRequeueComesBackAfterItsDelay() {
        start((key, outcome, took) -> outcomes.add(key + ":" + outcome));
        results.put("k", Result.requeueAfter(Duration.ofSeconds(5)));
        queue.add("k");
        await().atMost(WAIT).until(() -> outcomes.size() == 1);
        time.advance(Duration.ofMillis(4999));
        assertEquals(0, queue.depth());
        results.put("k", Result.done());
        time.advance(Duration.ofMillis(1));
        await().atMost(WAIT).until(() -> outcomes.size() == 2);
        assertEquals(List.of("k:requeue", "k:success"), outcomes);
    }

    @Test
    void whatAReconcileThrowsIsAPanicAndTheWorkerLivesOn() {
        start((key, outcome, took) -> outcomes.add(key + ":" + outcome));
        results.put("bad", Result.error("throw"));
        queue.add("bad");
        await().atMost(WAIT).until(() -> outcomes.contains("bad:panic"));
        queue.add("good");
        await().atMost(WAIT).until(() -> outcomes.contains("good:success"));
        assertTrue(engine.healthy());
    }

    @Test
    void aWorkerThatDiesIsReplacedAndTheEngineIsUnhealthyUntilThen() {
        AtomicBoolean killOnce = new AtomicBoolean(true);
        start((key, outcome, took) -> {
            if (killOnce.getAndSet(false)) {
                // a plain Error: an OutOfMemoryError is rethrown by JUnit itself when
                // awaitility hands the worker's death over to the test thread
                throw new WorkerKiller();
            }
            outcomes.add(key + ":" + outcome);
        });
        queue.add("first");
        await().dontCatchUncaughtExceptions().atMost(WAIT).until(() -> !engine.healthy());
        time.advance(Engine.SUPERVISE);
        await().atMost(WAIT).until(engine::healthy);
        assertEquals(1, engine.replacedWorkers());
        for (int i = 0; i < 10; i++) {
            queue.add("k" + i);
        }
        await().atMost(WAIT).until(() -> outcomes.size() == 10);
    }

    /** What a worker does not survive: an Error thrown past the reconcile's own catch. */
    private static final class WorkerKiller extends Error {
        WorkerKiller() {
            super("what no worker survives");
        }
    }
}
