package org.ievirsh.controller;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.libvirt.DomainSummary;
import org.ievirsh.libvirt.LibvirtBladeLink;
import org.ievirsh.metrics.Metrics;
import org.ievirsh.support.World;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TestDriverBladesTest places VMs over several independent hosts of
 * libvirt's test driver (one node description each), with a blade that is
 * not schedulable and one whose URI is refused, through the real libvirt
 * binding.
 */
class TestDriverBladesTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path tmp;
    Controller controller;
    PrometheusMeterRegistry registry;

    @AfterEach
    void stop() {
        if (controller != null) {
            controller.close();
        }
    }

    private Path nodeFile(String name, int cpus, long gib) throws Exception {
        return World.testDriverHost(tmp.resolve(name + ".xml"), cpus, gib);
    }

    @Test
    void vmsFillTheBladesWithRoomAndTheRestIsUnschedulable() throws Exception {
        World world = new World(tmp.resolve("world")).student("alice").student("bob");
        String blades = "  - {name: t1, uri: \"test://" + nodeFile("t1", 8, 8) + "\"}\n"
                + "  - {name: t2, uri: \"test://" + nodeFile("t2", 64, 64) + "\", schedulable: false}\n"
                + "  - {name: t3, uri: \"test://" + nodeFile("t3", 8, 6) + "\"}\n"
                + "  - {name: dead, uri: \"qemu+tcp://127.0.0.1:1/system\"}\n";
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        controller = new Controller(world.config(blades, "quota: {default: {vms: 10, runningVms: 10, vcpus: 40,"
                + " memory: 40GiB}}\n"), world.owners(), b -> new LibvirtBladeLink(b.name(), b.uri()),
                new Metrics(registry), Clock.systemUTC());
        controller.start();
        for (int i = 0; i < 4; i++) {
            world.vm("alice", "a" + i, "Always");
            world.vm("bob", "b" + i, "Always");
        }
        Map<String, Integer> perBlade = new HashMap<>();
        VmStatus unschedulable = null;
        for (String user : new String[] {"alice", "bob"}) {
            for (int i = 0; i < 4; i++) {
                String vm = (user.equals("alice") ? "a" : "b") + i;
                await().atMost(WAIT).until(() -> world.status(user, vm).map(s -> s.phase() == Phase.Running
                        || s.phase() == Phase.Unschedulable).orElse(false));
                VmStatus s = world.status(user, vm).orElseThrow();
                if (s.phase() == Phase.Running) {
                    perBlade.merge(s.blade(), 1, Integer::sum);
                } else {
                    unschedulable = s;
                }
            }
        }
        assertEquals(Map.of("t1", 4, "t3", 3), perBlade, "8 GiB take four 2 GiB VMs, 6 GiB three");
        assertTrue(unschedulable != null);
        assertEquals("no blade has room for 2 vCPUs and 2GiB: t1 has 0 vCPUs and 0B free; t2 takes no new VMs;"
                + " t3 has 2 vCPUs and 0B free; dead is unreachable (an admin may set a blade's capacity: see the README's"
                + " configuration)", unschedulable.message());
        for (String blade : new String[] {"t1", "t3"}) {
            int defined = 0;
            for (DomainSummary d : controller.fleet().blade(blade).orElseThrow().hypervisor().orElseThrow().listAll()) {
                defined += d.name().startsWith("alice-") || d.name().startsWith("bob-") ? 1 : 0;
            }
            assertEquals(perBlade.get(blade), defined, blade);
        }
        String scrape = registry.scrape();
        assertTrue(scrape.contains("ievirsh_blade_up{blade=\"dead\"} 0.0"), scrape);
        assertTrue(scrape.contains("ievirsh_blade_memory_bytes{blade=\"t3\"} 6.442450944E9"), scrape);
        assertTrue(scrape.contains("ievirsh_vms{blade=\"none\",phase=\"Unschedulable\"} 1.0"), scrape);
    }
}
