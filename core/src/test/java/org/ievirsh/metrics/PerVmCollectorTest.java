package org.ievirsh.metrics;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.ievirsh.api.v1.Condition;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.VmStatus;
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

/**
 * PerVmCollector: one series per running VM with its user and VM as labels, whatever order the blades give, in
 * the text format, and no scrape waits on a blade.
 */
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
        Exposition exposition = new Exposition(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        exposition.add(collector);
        for (String user : List.of("zoe", "bob", "ab-c", "alice", "ab")) {
            collector.quotaOf(user, new QuotaLimits(4, 4, 8, 8L << 30));
        }
        for (int scrape = 0; scrape < 2; scrape++) {
            collector.sample();
            String text = exposition.text();
            List<String> cpu = series(text, "ievirsh_vm_cpu_seconds_total");
            // In the order of their labels as the scrape writes them: no sort here, so the order is checked.
            assertEquals(List.of("ab", "ab-c", "alice", "zoe"), cpu.stream()
                    .map(l -> l.replaceAll(".*user=\"([^\"]*)\".*", "$1")).toList(), text);
            assertTrue(cpu.contains("ievirsh_vm_cpu_seconds_total{user=\"ab\",vm=\"z\"} 1.500000000"), text);
            assertTrue(cpu.contains("ievirsh_vm_cpu_seconds_total{user=\"alice\",vm=\"db\"} 1.500000000"), text);
            assertEquals(4, series(text, "ievirsh_vm_memory_bytes").size(), text);
            assertTrue(series(text, "ievirsh_vm_memory_bytes")
                    .contains("ievirsh_vm_memory_bytes{user=\"ab-c\",vm=\"a\"} " + (100L << 20)), text);
            assertEquals(5, series(text, "ievirsh_user_quota_vms").size(), text);
            assertTrue(text.contains("# TYPE ievirsh_vm_cpu_seconds_total counter\n"), text);
        }
        // A VM stopped since: its series goes at the next sample.
        h1.destroy(b1.view().all().stream().filter(d -> d.config().user().equals("zoe")).findFirst().orElseThrow()
                .uuid());
        collector.sample();
        assertEquals(3, series(exposition.text(), "ievirsh_vm_cpu_seconds_total").size());
        collector.close();
    }

    @Test
    void aScrapeNeverWaitsForABladeThatHangs() throws Exception {
        FakeHypervisor h1 = new FakeHypervisor("b1");
        Blade b1 = blade("b1", h1);
        domain(b1, h1, "alice", "web", true);
        StatusBook book = new StatusBook();
        book.putUser("alice", Map.of("web", new VmStatus("web", new VmStatus.Owner("alice", 1001), Phase.Running, "",
                List.of(new Condition(Condition.ADMITTED, "True", "WithinQuota", "", null)), "b1", "alice-web",
                null, null, null, List.of(), 1, "1Gi", "t", "web.qcow2", null, "h", null)));
        try (PerVmCollector collector = new PerVmCollector(new Fleet(List.of(b1)), book, 0)) {
            collector.quotaOf("alice", new QuotaLimits(4, 4, 8, 8L << 30));
            Exposition exposition = new Exposition(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
            exposition.add(collector);
            assertEquals(1, series(exposition.text(), "ievirsh_vm_cpu_seconds_total").size());
            // The blade hangs in its statistics call: every scrape answers at once with the last sample.
            CountDownLatch hung = new CountDownLatch(1);
            h1.holdUsage = hung;
            for (int i = 0; i < 3; i++) {
                long t0 = System.nanoTime();
                String text = exposition.text();
                assertTrue(System.nanoTime() - t0 < 1_000_000_000L, "a scrape waited for the blade");
                assertEquals(List.of("ievirsh_vm_cpu_seconds_total{user=\"alice\",vm=\"web\"} 1.500000000"),
                        series(text, "ievirsh_vm_cpu_seconds_total"));
                assertEquals(List.of("ievirsh_user_vms{user=\"alice\"} 1"), series(text, "ievirsh_user_vms"));
            }
            // Stopped meanwhile: once the blade answers, a later scrape no longer shows it.
            h1.holdUsage = null;
            h1.destroy(b1.view().all().get(0).uuid());
            hung.countDown();
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> series(exposition.text(), "ievirsh_vm_cpu_seconds_total").isEmpty());
        }
    }

    @Test
    void labelValuesAndSecondsAreWrittenAsTheTextFormatWants() {
        assertEquals("plain", PerVmCollector.escape("plain"));
        assertEquals("a\\\\b\\\"c\\nd", PerVmCollector.escape("a\\b\"c\nd"));
        assertEquals("0.000000000", PerVmCollector.seconds(new StringBuilder(), 0).toString());
        assertEquals("0.000012345", PerVmCollector.seconds(new StringBuilder(), 12_345).toString());
        assertEquals("3.500000000", PerVmCollector.seconds(new StringBuilder(), 3_500_000_000L).toString());
        assertEquals("1234567.000000001", PerVmCollector.seconds(new StringBuilder(), 1_234_567_000_000_001L).toString());
    }
}
