package org.ievirsh.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.ievirsh.api.v1.Condition;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.controller.Controller;
import org.ievirsh.libvirt.DomainSummary;
import org.ievirsh.libvirt.LibvirtBladeLink;
import org.ievirsh.metrics.Metrics;
import org.ievirsh.support.World;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * InspectionIT runs the controller with {@code images.inspection: enforce}
 * and real libguestfs: a VM whose image holds Vagrant's key and password
 * waits while it is looked at, is refused with what was found and how to
 * fix it, and is never defined; a VM with a clean image starts.
 */
@EnabledIfSystemProperty(named = "ievirsh.e2e", matches = "true")
class InspectionIT {
    private static final Duration WAIT = Duration.ofMinutes(3);

    @TempDir
    Path tmp;
    Controller controller;

    @AfterEach
    void stop() {
        if (controller != null) {
            controller.close();
        }
    }

    private static String condition(VmStatus status, String type) {
        Condition c = status.conditions().stream().filter(x -> x.type().equals(type)).findFirst().orElseThrow();
        return c.status() + "/" + c.reason();
    }

    @Test
    void anInsecureImageIsRefusedWithWhatWasFoundAndACleanOneStarts() throws Exception {
        World world = new World(tmp.resolve("world")).inspection("enforce").student("alice");
        GuestInspectorIT.insecureWholeDisk(tmp, world.image("alice", "box.qcow2"));
        GuestInspectorIT.cleanDisk(tmp, world.image("alice", "web.qcow2"));
        Path node = World.testDriverHost(tmp.resolve("host.xml"), 8, 16);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        controller = new Controller(world.config("  - {name: t, uri: \"test://" + node + "\"}\n", ""),
                world.owners(), b -> new LibvirtBladeLink(b.name(), b.uri()), new Metrics(registry),
                Clock.systemUTC());
        controller.start();
        world.vm("alice", "box", "Always");
        world.vm("alice", "web", "Always");

        await().atMost(Duration.ofSeconds(15)).until(() -> world.status("alice", "box")
                .map(s -> s.phase() == Phase.Pending).orElse(false));
        VmStatus inspecting = world.status("alice", "box").orElseThrow();
        assertEquals("Unknown/Inspecting", condition(inspecting, Condition.IMAGE_READY), inspecting.message());

        await().atMost(WAIT).until(() -> world.status("alice", "box")
                .map(s -> s.phase() == Phase.ImageRejected).orElse(false));
        VmStatus box = world.status("alice", "box").orElseThrow();
        assertEquals("False/InsecureImage", condition(box, Condition.IMAGE_READY));
        for (String part : List.of("Vagrant's insecure RSA key is in /etc/ssh/keys/vagrant (on /dev/sda)",
                "the account vagrant has the password \"vagrant\"", "virt-customize -a box.qcow2")) {
            assertTrue(box.message().contains(part), box.message());
        }

        await().atMost(WAIT).until(() -> world.status("alice", "web")
                .map(s -> s.phase() == Phase.Running).orElse(false));
        List<String> defined = controller.fleet().blade("t").orElseThrow().hypervisor().orElseThrow().listAll()
                .stream().map(DomainSummary::name).toList();
        assertEquals(List.of("alice-web"), defined);
        String scrape = registry.scrape();
        assertTrue(scrape.contains("ievirsh_image_inspections_total{result=\"insecure\"} 1.0"), scrape);
        assertTrue(scrape.contains("ievirsh_image_inspections_total{result=\"clean\"} 1.0"), scrape);
        assertTrue(scrape.contains("ievirsh_images_rejected{reason=\"InsecureImage\"} 1"), scrape);
    }
}
