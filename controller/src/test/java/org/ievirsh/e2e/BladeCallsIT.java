package org.ievirsh.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.ievirsh.libvirt.BladeLink;
import org.ievirsh.libvirt.Hypervisor;
import org.ievirsh.libvirt.HypervisorException;
import org.ievirsh.libvirt.LibvirtBladeLink;
import org.ievirsh.libvirt.LifecycleEvent;
import org.ievirsh.support.Commands;
import org.ievirsh.support.Repo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * BladeCallsIT calls one real blade from eight threads, as the controller's
 * workers, address book and metrics do, while its libvirtd is killed and
 * started again and while it is frozen. libvirt's client (9.0, Debian 12)
 * ends the process with a SIGSEGV when calls share one connection under
 * such faults (virNetClientIOEventFD, fixed in libvirt 10.4): the same
 * eight threads on one shared connection crashed this JVM within 30
 * seconds here. The link's lanes carry one call each; this test's JVM must
 * live, calls to a frozen blade must end rather than hang, and the blade
 * must answer again after each fault.
 */
@EnabledIfSystemProperty(named = "ievirsh.e2e", matches = "true")
class BladeCallsIT {
    private static final String BLADE = "ievb2";

    @Test
    void manyThreadsCallingABladeThatRestartsAndFreezesEndNeitherTheProcessNorTheirCalls() throws Exception {
        LibvirtBladeLink link = new LibvirtBladeLink(BLADE, Host.bladeUri("ievirsh.blade2"));
        link.start(new BladeLink.Listener() {
            @Override
            public void onConnected(String blade) {
            }

            @Override
            public void onDisconnected(String blade, String reason) {
            }

            @Override
            public void onEvent(LifecycleEvent event) {
            }
        });
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong answered = new AtomicLong();
        AtomicLong endedLost = new AtomicLong();
        List<Thread> callers = new ArrayList<>();
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> link.hypervisor().isPresent());
            for (int i = 0; i < 8; i++) {
                int n = i;
                Thread caller = new Thread(() -> {
                    while (running.get()) {
                        Hypervisor hypervisor = link.hypervisor().orElse(null);
                        if (hypervisor == null) {
                            pause();
                            continue;
                        }
                        try {
                            if (n % 2 == 0) {
                                hypervisor.listAll();
                            } else {
                                hypervisor.nodeResources();
                            }
                            answered.incrementAndGet();
                        } catch (HypervisorException e) {
                            if (e.isConnectionLost()) {
                                endedLost.incrementAndGet();
                                link.callFailed(e);
                            }
                        }
                    }
                }, "caller-" + i);
                callers.add(caller);
                caller.start();
            }
            for (int round = 0; round < 3; round++) {
                awaitAnswers(answered);
                blades("restart-libvirtd");
                awaitAnswers(answered);
                long lostBefore = endedLost.get();
                blades("freeze");
                try {
                    // A call to a frozen blade ends (the watch connection's keepalive says it is lost).
                    await().atMost(Duration.ofSeconds(30)).until(() -> endedLost.get() > lostBefore);
                } finally {
                    blades("thaw");
                }
            }
            awaitAnswers(answered);
            System.out.println("BENCH blade-calls: " + answered.get() + " calls answered, " + endedLost.get()
                    + " ended by a lost blade, over 3 restarts and 3 freezes of " + BLADE);
        } finally {
            running.set(false);
            for (Thread caller : callers) {
                caller.join(60_000);
                assertFalse(caller.isAlive(), caller.getName() + " ended");
            }
            link.close();
            Commands.run(List.of(Repo.path(".ci/blades.sh").toString(), "thaw", BLADE));
        }
        assertTrue(link.hypervisor().isEmpty(), "closed");
    }

    /** Waits for the blade to answer some more calls. */
    private static void awaitAnswers(AtomicLong answered) {
        long before = answered.get();
        await().atMost(Duration.ofSeconds(60)).until(() -> answered.get() > before + 100);
    }

    private static void blades(String what) {
        Commands.run(List.of(Repo.path(".ci/blades.sh").toString(), what, BLADE));
    }

    private static void pause() {
        try {
            Thread.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
