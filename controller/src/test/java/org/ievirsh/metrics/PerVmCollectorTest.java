package org.ievirsh.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import java.util.Optional;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.blade.Blade;
import org.ievirsh.blade.Fleet;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.libvirt.DomainState;
import org.ievirsh.libvirt.FakeBladeLink;
import org.ievirsh.libvirt.FakeHypervisor;
import org.ievirsh.libvirt.StopReason;
import org.ievirsh.quota.QuotaLimits;
import org.ievirsh.status.StatusBook;
import org.ievirsh.template.DomainMetadata;
import org.junit.jupiter.api.Test;

/** PerVmCollector: one series per running VM with its user and VM as labels, whatever order the blades give. */
class PerVmCollectorTest {
    private int next;

    private static Blade blade(String name, FakeHypervisor hypervisor) {
        return new Blade(new ControllerConfig.Blade(name, "fake:///" + name, true, ControllerConfig.Resources.NONE,
                ControllerConfig.Capacity.REPORTED), new FakeBladeLink(hypervisor));
    }

    /** A domain of {@code user}'s {@code vm} on {@code blade}, defined there and started when {@code running}. */
    private void domain(Blade blade, FakeHypervisor hypervisor, String user, String vm, boolean running)
            throws Exception {
        String uuid = String.format("00000000-0000-4000-8000-%012d", next++);
        String name = user + "-" + vm + "-" + next;
        hypervisor.define("<domain><name>" + name + "</name><uuid>" + uuid + "</uuid></domain>");
        if (running) {
            hypervisor.start(uuid);
        }
        blade.view().put(new ObservedDomain(blade.name(), uuid, name, running ? DomainState.RUNNING
                : DomainState.SHUTOFF, StopReason.UNKNOWN, new DomainMetadata(1001, user, vm, "sha256:s", "sha256:r",
                List.of(), 1, 1L << 30, Optional.empty()), Optional.empty(), false));
    }

    private static List<String> series(String scrape, String metric) {
        return scrape.lines().filter(l -> l.startsWith(metric + "{")).toList();
    }

    @Test
    void everyRunningVmHasOneSeriesInLabelOrderAcrossScrapes() throws Exception {
        FakeHypervisor h1 = new FakeHypervisor("b1");
        FakeHypervisor h2 = new FakeHypervisor("b2");
        Blade b1 = blade("b1", h1);
        Blade b2 = blade("b2", h2);
        // Users whose names sort differently as names and as "user/vm" strings: "ab" < "ab-c", but "ab-c/a" < "ab/z".
        domain(b1, h1, "zoe", "web", true);
        domain(b1, h1, "ab", "z", true);
        domain(b2, h2, "ab-c", "a", true);
        domain(b2, h2, "bob", "db", false);
        domain(b1, h1, "alice", "db", true);
        domain(b2, h2, "alice", "db", true);  // the same VM on two blades for a moment (a move)
        PerVmCollector collector = new PerVmCollector(new Fleet(List.of(b1, b2)), new StatusBook());
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        collector.register(registry);
        for (String user : List.of("zoe", "bob", "ab-c", "alice", "ab")) {
            collector.quotaOf(user, new QuotaLimits(4, 4, 8, 8L << 30));
        }
        for (int scrape = 0; scrape < 2; scrape++) {
            collector.sample();
            String text = registry.scrape();
            List<String> cpu = series(text, "ievirsh_vm_cpu_seconds_total");
            // In the order of their labels as the scrape writes them: no sort here, so the order is checked.
            assertEquals(List.of("ab", "ab-c", "alice", "zoe"), cpu.stream()
                    .map(l -> l.replaceAll(".*user=\"([^\"]*)\".*", "$1")).toList(), text);
            assertTrue(cpu.contains("ievirsh_vm_cpu_seconds_total{user=\"ab\",vm=\"z\"} 1.5"), text);
            assertTrue(cpu.contains("ievirsh_vm_cpu_seconds_total{user=\"alice\",vm=\"db\"} 1.5"), text);
            assertEquals(4, series(text, "ievirsh_vm_memory_bytes").size(), text);
            assertTrue(series(text, "ievirsh_vm_memory_bytes")
                    .contains("ievirsh_vm_memory_bytes{user=\"ab-c\",vm=\"a\"} " + (double) (100L << 20)), text);
            assertEquals(5, series(text, "ievirsh_user_quota_vms").size(), text);
        }
        // A VM stopped since: its series goes at the next sample.
        h1.destroy(b1.view().all().stream().filter(d -> d.config().user().equals("zoe")).findFirst().orElseThrow()
                .uuid());
        collector.sample();
        assertEquals(3, series(registry.scrape(), "ievirsh_vm_cpu_seconds_total").size());
    }
}
