package org.ievirsh.reconcile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class WorkQueueTest {
    private static final Duration NOW = Duration.ZERO;

    @Test
    void duplicateKeysCollapse() throws InterruptedException {
        try (WorkQueue<String> queue = new WorkQueue<>()) {
            queue.add("a");
            queue.add("a");
            queue.addRoutine("a");
            assertEquals(1, queue.depth());
            assertEquals(Optional.of("a"), queue.take(NOW));
            assertEquals(Optional.empty(), queue.take(NOW));
        }
    }

    @Test
    void aKeyIsNeverHandedOutTwiceAtOnceAndComesBackIfAddedWhileItRuns() throws InterruptedException {
        try (WorkQueue<String> queue = new WorkQueue<>()) {
            queue.add("a");
            assertEquals(Optional.of("a"), queue.take(NOW));
            queue.add("a");
            assertEquals(Optional.empty(), queue.take(NOW), "still processing");
            queue.done("a");
            assertEquals(Optional.of("a"), queue.take(NOW));
            queue.done("a");
            assertEquals(Optional.empty(), queue.take(NOW));
        }
    }

    @Test
    void changedKeysGoBeforeRoutineOnes() throws InterruptedException {
        try (WorkQueue<String> queue = new WorkQueue<>()) {
            queue.addRoutine("r1");
            queue.addRoutine("r2");
            queue.add("hot");
            queue.add("r2");
            assertEquals(Optional.of("hot"), queue.take(NOW));
            assertEquals(Optional.of("r2"), queue.take(NOW));
            assertEquals(Optional.of("r1"), queue.take(NOW));
        }
    }

    @Test
    void backOffDoublesFromOneSecondToFiveMinutesAndSuccessResetsIt() {
        try (WorkQueue<String> queue = new WorkQueue<>()) {
            assertEquals(Duration.ofSeconds(1), queue.backoff(1));
            assertEquals(Duration.ofSeconds(2), queue.backoff(2));
            assertEquals(Duration.ofSeconds(256), queue.backoff(9));
            assertEquals(Duration.ofMinutes(5), queue.backoff(10));
            assertEquals(Duration.ofMinutes(5), queue.backoff(1000));
            queue.addRateLimited("k");
            queue.addRateLimited("k");
            assertEquals(2, queue.failures("k"));
            queue.forget("k");
            assertEquals(0, queue.failures("k"));
        }
    }

    @Test
    void delayedKeysArriveAfterTheirDelay() throws InterruptedException {
        try (WorkQueue<String> queue = new WorkQueue<>(Duration.ofMillis(10), Duration.ofMillis(100))) {
            queue.addAfter("later", Duration.ofMillis(50));
            assertEquals(0, queue.depth());
            assertEquals(Optional.of("later"), queue.take(Duration.ofSeconds(5)));
            queue.done("later");
            queue.addRateLimited("fails");
            assertEquals(Optional.of("fails"), queue.take(Duration.ofSeconds(5)));
        }
    }

    @Test
    void closingWakesWaitingWorkers() throws InterruptedException {
        WorkQueue<String> queue = new WorkQueue<>();
        Thread closer = new Thread(() -> {
            try {
                Thread.sleep(50);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
            queue.close();
        });
        closer.start();
        long started = System.nanoTime();
        assertEquals(Optional.empty(), queue.take(Duration.ofSeconds(30)));
        assertTrue(System.nanoTime() - started < Duration.ofSeconds(20).toNanos());
        closer.join();
    }
}
