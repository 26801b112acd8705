package org.ievirsh.libvirt;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

class LibvirtBladeLinkTest {
    @Test
    void retriesDoubleFromOneSecondAndStopAtThirty() {
        List<Long> waits = new ArrayList<>();
        Duration retry = LibvirtBladeLink.FIRST_RETRY;
        for (int i = 0; i < 9; i++) {
            waits.add(retry.toSeconds());
            retry = LibvirtBladeLink.after(retry);
        }
        assertEquals(List.of(1L, 2L, 4L, 8L, 16L, 30L, 30L, 30L, 30L), waits);
    }

    @Test
    void aBladeThatCannotBeReachedIsRetriedWithTheGrowingWaitAndSaysWhy() {
        List<String> lines = new CopyOnWriteArrayList<>();
        Logger log = Logger.getLogger(LibvirtBladeLink.class.getName());
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                lines.add(record.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(handler);
        List<String> failures = new CopyOnWriteArrayList<>();
        LibvirtBladeLink link = new LibvirtBladeLink("nowhere", "qemu+unix:///system?socket=/nonexistent/libvirt-sock");
        try {
            link.start(new BladeLink.Listener() {
                @Override
                public void onConnected(String blade) {
                }

                @Override
                public void onDisconnected(String blade, String reason) {
                }

                @Override
                public void onConnectFailed(String blade, String error) {
                    failures.add(error);
                }

                @Override
                public void onEvent(LifecycleEvent event) {
                }
            });
            await().atMost(Duration.ofSeconds(15)).until(() -> failures.size() >= 3);
            assertTrue(link.attempted());
            assertTrue(link.hypervisor().isEmpty());
            assertTrue(link.lastError().contains("/nonexistent/libvirt-sock"), link.lastError());
            List<String> retries = lines.stream().filter(l -> l.startsWith("blade nowhere: cannot connect"))
                    .map(l -> l.substring(l.lastIndexOf("retrying in "))).toList();
            assertEquals(List.of("retrying in 1s", "retrying in 2s", "retrying in 4s"), retries.subList(0, 3));
        } finally {
            link.close();
            log.removeHandler(handler);
        }
    }
}
