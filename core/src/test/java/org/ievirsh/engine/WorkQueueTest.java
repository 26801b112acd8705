package org.ievirsh.engine;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.ievirsh.support.ManualTime;
import org.junit.jupiter.api.Test;

class WorkQueueTest {
    private static final Duration NOW = Duration.ZERO;
    private final ManualTime time = new ManualTime();

    @Test
    void duplicateKeysCollapse() throws InterruptedException {
        try (WorkQueue<String> queue = new WorkQueue<>(time)) {
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
        try (WorkQueue<String> queue = new WorkQueue<>(time)) {
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
        try (WorkQueue<String> queue = new WorkQueue<>(time)) {
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
        try (WorkQueue<String> queue = new WorkQueue<>(time)) {
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
    void delayedKeysArriveAfterTheirDelayAndNotBefore() throws InterruptedException {
        try (WorkQueue<String> queue = new WorkQueue<>(time, Duration.ofMillis(10), Duration.ofMillis(100))) {
            queue.addAfter("later", Duration.ofMillis(50));
            time.advance(Duration.ofMillis(49));
            assertEquals(0, queue.depth(), "not before its delay");
            time.advance(Duration.ofMillis(1));
            assertEquals(Optional.of("later"), queue.take(NOW));
            queue.done("later");
            queue.addRateLimited("fails");
            time.advance(Duration.ofMillis(9));
            assertEquals(Optional.empty(), queue.take(NOW), "not before its back-off");
            time.advance(Duration.ofMillis(1));
            assertEquals(Optional.of("fails"), queue.take(NOW));
        }
    }

    @Test
    void aKeyDueCenturiesAheadWaitsADayAndNoLonger() throws InterruptedException {
        try (WorkQueue<String> queue = new WorkQueue<>(time)) {
            queue.addAfter("year-9999", Duration.ofDays(365L * 8000));
            time.advance(WorkQueue.LONGEST_WAIT.minusMillis(1));
            assertEquals(0, queue.depth());
            time.advance(Duration.ofMillis(1));
            assertEquals(Optional.of("year-9999"), queue.take(NOW), "it comes after a day to ask for the rest again");
        }
    }

    @Test
    void aKeyInBackOffIsNotBroughtForwardByAddingItAgain() throws InterruptedException {
        try (WorkQueue<String> queue = new WorkQueue<>(time)) {
            queue.addRateLimited("student");
            queue.add("student");
            queue.addRoutine("student");
            assertEquals(0, queue.depth(), "a file event or a resync does not cut the back-off short");
            time.advance(Duration.ofMillis(999));
            assertEquals(Optional.empty(), queue.take(NOW));
            time.advance(Duration.ofMillis(1));
            assertEquals(Optional.of("student"), queue.take(NOW));
            queue.done("student");
            queue.forget("student");
            queue.add("student");
            assertEquals(Optional.of("student"), queue.take(NOW), "after a success, an add is at once again");
        }
    }

    @Test
    void closingWakesWaitingWorkers() throws InterruptedException {
        WorkQueue<String> queue = new WorkQueue<>(time);
        AtomicReference<Optional<String>> taken = new AtomicReference<>();
        Thread taker = new Thread(() -> {
            try {
                taken.set(queue.take(Duration.ofSeconds(30)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        taker.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> taker.getState() == Thread.State.TIMED_WAITING);
        queue.close();
        taker.join(Duration.ofSeconds(20).toMillis());
        assertFalse(taker.isAlive(), "the waiting worker woke up");
        assertEquals(Optional.empty(), taken.get());
    }
}
