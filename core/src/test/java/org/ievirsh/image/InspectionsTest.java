package org.ievirsh.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.ievirsh.image.guest.GuestInspector;
import org.ievirsh.metrics.Metrics;
import org.ievirsh.support.Root;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When an image is looked inside, and what is remembered; the look itself is a fake here (see GuestInspectorIT). */
class InspectionsTest {
    @TempDir
    Path root;
    Path image;
    final AtomicInteger looks = new AtomicInteger();
    final AtomicReference<GuestInspector.Report> report = new AtomicReference<>(new GuestInspector.Report(List.of(), 1));
    final Semaphore done = new Semaphore(0);
    final Metrics metrics = new Metrics(new SimpleMeterRegistry());
    ImageChecker checker;
    Inspections inspections;

    @BeforeEach
    void setUp() throws IOException {
        Root.require();
        Files.createDirectories(root.resolve("alice"));
        image = Files.write(root.resolve("alice/web.qcow2"), new byte[] {1, 2, 3});
        checker = new ImageChecker(root);
    }

    @AfterEach
    void tearDown() {
        if (inspections != null) {
            inspections.close();
        }
    }

    private Inspections inspections(Inspections.Mode mode) {
        inspections = new Inspections(mode, checker, (path, format, uid, gid, onKill) -> {
            looks.incrementAndGet();
            if (report.get() == null) {
                throw new IOException("the appliance did not start");
            }
            return report.get();
        }, 1, metrics, Clock.systemUTC());
        return inspections;
    }

    private String version() {
        try (ImageChecker.Session session = checker.open("alice", 0, new ImageChecker.Memory())) {
            session.check("web.qcow2", "raw", false);
            return session.versionOf("web.qcow2");
        }
    }

    private Inspection ask(boolean inUse) {
        return ask(version(), inUse);
    }

    /** What the reconciler does: ask what is known; when nothing is and the VM is about to start, start a look. */
    private Inspection ask(String version, boolean inUse) {
        Inspection known = inspections.known("alice", "web.qcow2", version, "raw");
        if (known == null || known.state() != Inspection.State.NONE) {
            return known;
        }
        if (inUse) {
            return null;
        }
        return inspections.start("alice", 0, 0, "web.qcow2", version, "raw", done::release);
    }

    private void awaitLook() throws InterruptedException {
        assertTrue(done.tryAcquire(10, TimeUnit.SECONDS), "the look did not end");
    }

    @Test
    void offLooksAtNothing() {
        inspections(Inspections.Mode.OFF);
        assertNull(ask(false));
        assertEquals(0, looks.get());
    }

    @Test
    void oneLookPerVersionOfTheImageAndItsOutcomeIsRemembered() throws Exception {
        inspections(Inspections.Mode.ENFORCE);
        Inspection first = ask(false);
        assertEquals(Inspection.State.INSPECTING, first.state());
        assertTrue(first.blocksStart());
        awaitLook();
        assertEquals(Inspection.State.CLEAN, ask(false).state());
        assertEquals(Inspection.State.CLEAN, ask(true).state());
        assertEquals(1, looks.get());
        assertEquals(1.0, metrics.registry().get("ievirsh.image.inspections").tag("result", "clean").counter().count());

        report.set(new GuestInspector.Report(List.of("Vagrant's insecure RSA key is in /home/vagrant/.ssh/"
                + "authorized_keys (on /dev/sda1)"), 1));
        Files.write(image, new byte[] {4, 5, 6, 7});
        assertEquals(Inspection.State.INSPECTING, ask(false).state());
        awaitLook();
        Inspection insecure = ask(false);
        assertEquals(Inspection.State.INSECURE, insecure.state());
        assertTrue(insecure.blocksStart());
        assertTrue(insecure.message().contains("/home/vagrant/.ssh/authorized_keys (on /dev/sda1)"), insecure.message());
        assertTrue(insecure.message().contains("virt-customize -a web.qcow2"), insecure.message());
        assertEquals(2, looks.get());
    }

    @Test
    void anImageInUseIsNotLookedAt() {
        inspections(Inspections.Mode.ENFORCE);
        assertNull(ask(true));
        assertEquals(0, looks.get());
    }

    @Test
    void warnReportsButDoesNotHoldTheStart() throws Exception {
        inspections(Inspections.Mode.WARN);
        report.set(new GuestInspector.Report(List.of("root has an empty password"), 1));
        assertTrue(ask(false).blocksStart(), "the start waits for the look in every mode");
        awaitLook();
        Inspection warned = ask(false);
        assertEquals(Inspection.State.INSECURE, warned.state());
        assertTrue(!warned.blocksStart());
    }

    @Test
    void aFailedLookIsRetriedLater() throws Exception {
        inspections(Inspections.Mode.ENFORCE);
        report.set(null);
        ask(false);
        awaitLook();
        Inspection failed = ask(false);
        assertEquals(Inspection.State.FAILED, failed.state());
        assertTrue(failed.message().contains("the appliance did not start"), failed.message());
        assertTrue(failed.retryAfter().compareTo(Duration.ZERO) > 0);
        assertEquals(1, looks.get());
    }

    @Test
    void anImageChangedBeforeTheLookIsNotJudgedOnItsOldVersion() throws Exception {
        inspections(Inspections.Mode.ENFORCE);
        String old = version();
        Files.write(image, new byte[] {9, 9, 9, 9, 9});
        assertEquals(Inspection.State.INSPECTING,
                ask(old, false).state());
        awaitLook();
        assertEquals(0, looks.get());
        assertEquals(Inspection.State.INSPECTING,
                ask(old, false).state());
        awaitLook();
    }
}
