package org.ievirsh.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DebouncedTest {
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() {
        thread.shutdownNow();
    }

    @Test
    void asksInOneBurstMakeOneRun() throws Exception {
        List<String> runs = new CopyOnWriteArrayList<>();
        CountDownLatch ran = new CountDownLatch(1);
        Debounced d = new Debounced(thread, 100, why -> {
            runs.add(why);
            ran.countDown();
        });
        d.ask("first");
        d.ask("second");
        d.ask("third");
        assertTrue(ran.await(10, TimeUnit.SECONDS));
        // A run of its own would have been queued behind the first by now if any ask had made one.
        thread.schedule(() -> { }, 300, TimeUnit.MILLISECONDS).get();
        assertEquals(List.of("first"), runs);
    }

    /** The config reloader's lost edit: a change saved while the last one was being read. */
    @Test
    void anAskWhileARunIsUnderWayMakesAnotherRunAfterIt() throws Exception {
        List<String> runs = new CopyOnWriteArrayList<>();
        CountDownLatch inFirstRun = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch second = new CountDownLatch(1);
        Debounced d = new Debounced(thread, 10, why -> {
            runs.add(why);
            if (runs.size() == 1) {
                inFirstRun.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            } else {
                second.countDown();
            }
        });
        d.ask("restored");
        assertTrue(inFirstRun.await(10, TimeUnit.SECONDS));
        d.ask("drain");
        release.countDown();
        assertTrue(second.await(10, TimeUnit.SECONDS), "the ask made during a run was dropped: " + runs);
        assertEquals(List.of("restored", "drain"), runs);
    }
}
