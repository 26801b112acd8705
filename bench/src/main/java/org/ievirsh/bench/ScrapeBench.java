package org.ievirsh.bench;

import com.sun.management.OperatingSystemMXBean;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.ievirsh.api.v1.Condition;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.blade.Blade;
import org.ievirsh.blade.Fleet;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.libvirt.DomainState;
import org.ievirsh.libvirt.EventLoop;
import org.ievirsh.libvirt.LibvirtBladeLink;
import org.ievirsh.libvirt.StopReason;
import org.ievirsh.metrics.Exposition;
import org.ievirsh.metrics.Metrics;
import org.ievirsh.metrics.PerVmCollector;
import org.ievirsh.quota.QuotaLimits;
import org.ievirsh.status.StatusBook;
import org.ievirsh.template.DomainIdentity;
import org.ievirsh.template.DomainMetadata;
import org.ievirsh.template.DomainRenderer;
import org.ievirsh.template.Template;
import org.libvirt.Connect;
import org.libvirt.Domain;

/**
 * ScrapeBench measures the scrape promise of docs/performance.md: the CPU of one
 * {@code /metrics} with the series of N running VMs (defined and started on
 * libvirt's test driver in this process, held by one blade as the
 * controller holds them, every student's status admitted), beside the same
 * scrape with the per-VM series switched off; and, apart, what one sample
 * of the VMs' usage costs (one bulk statistics call, taken on its own
 * schedule, not in the scrape).
 */
final class ScrapeBench {
    private static final String PREFIX = "ievsc";
    private static final int FIRST_UID = 300000;
    private static final int WARM_UP = 10;
    private static final int BATCHES = 5;
    private static final int PER_BATCH = 10;

    private ScrapeBench() {
    }

    static int run(int users, int vmsPerUser, PrintStream out) throws Exception {
        EventLoop.ensureStarted();
        Template template = Template.parse("bench", BenchTemplates.testDriver().getBytes());
        Connect connect = new Connect("test:///default");
        Blade blade = new Blade(new ControllerConfig.Blade("b1", "test:///default", true,
                ControllerConfig.Resources.NONE, ControllerConfig.Capacity.REPORTED),
                new LibvirtBladeLink("b1", "test:///default"));
        StatusBook book = new StatusBook();
        List<String> userNames = new ArrayList<>();
        try {
            long t0 = System.nanoTime();
            for (int u = 0; u < users; u++) {
                String user = PREFIX + u;
                userNames.add(user);
                Map<String, VmStatus> statuses = new HashMap<>();
                for (int v = 0; v < vmsPerUser; v++) {
                    String vm = "vm" + v;
                    String name = user + "-" + vm;
                    DomainIdentity id = new DomainIdentity(name, DomainIdentity.uuidFor(user, FIRST_UID + u, vm),
                            List.of());
                    String xml = DomainRenderer.render(new DomainRenderer.Input(template, user, FIRST_UID + u,
                            new DomainRenderer.RunAs(FIRST_UID + u, FIRST_UID + u), vm, id, 1, 128L << 20,
                            "/nonexistent/" + name + ".qcow2", "sha256:0", Optional.empty())).xml();
                    Domain d = connect.domainDefineXML(xml);
                    d.create();
                    d.free();
                    blade.view().put(new ObservedDomain("b1", id.uuid(), name, DomainState.RUNNING,
                            StopReason.UNKNOWN, new DomainMetadata(FIRST_UID + u, user, vm, "sha256:0", "sha256:0",
                            List.of(), 1, 128L << 20, Optional.empty()), Optional.of("sha256:0"), false));
                    statuses.put(vm, new VmStatus(vm, new VmStatus.Owner(user, FIRST_UID + u), Phase.Running,
                            "running", List.of(new Condition(Condition.ADMITTED, "True", "WithinQuota", "", null)),
                            "b1", name, id.uuid(), null, null, List.of(), 1, "128Mi", "bench", vm + ".qcow2", null,
                            "sha256:0", null));
                }
                book.putUser(user, statuses);
            }
            out.printf("scrape: %d VMs of %d users defined and started on test:///default in %.1f s%n",
                    users * vmsPerUser, users, (System.nanoTime() - t0) / 1e9);
            blade.link().start(new Quiet());
            while (blade.hypervisor().isEmpty()) {
                Thread.sleep(20);
            }
            blade.connected();
            Fleet fleet = new Fleet(List.of(blade));

            PrometheusMeterRegistry without = registry(book);
            Exposition plain = new Exposition(without);
            double off = cpuOf(() -> plain.text(), out, "without per-VM series");

            PrometheusMeterRegistry with = registry(book);
            PerVmCollector perVm = new PerVmCollector(fleet, book);
            userNames.forEach(user -> perVm.quotaOf(user, new QuotaLimits(vmsPerUser, vmsPerUser * 2,
                    vmsPerUser * 4, 8L << 30)));
            Exposition full = new Exposition(with);
            full.add(perVm);
            perVm.sample();
            double on = cpuOf(() -> full.text(), out, "with the per-VM series of " + users * vmsPerUser + " VMs");

            List<Long> samples = new ArrayList<>();
            for (int b = 0; b < BATCHES; b++) {
                long cpu0 = processCpu();
                for (int i = 0; i < PER_BATCH; i++) {
                    perVm.sample();
                }
                samples.add((processCpu() - cpu0) / PER_BATCH);
            }
            double sample = median(samples) / 1e6;
            List<Long> calls = new ArrayList<>();
            for (int b = 0; b < BATCHES; b++) {
                long cpu0 = processCpu();
                for (int i = 0; i < PER_BATCH; i++) {
                    blade.hypervisor().orElseThrow().usage();
                }
                calls.add((processCpu() - cpu0) / PER_BATCH);
            }
            double call = median(calls) / 1e6;
            out.printf("scrape  one usage sample of the %d VMs (bulk statistics call, test driver in this process):"
                    + " median %.0f ms of CPU; every %d s (its own schedule), %.2f%% of one core%n",
                    users * vmsPerUser, sample, PerVmCollector.FRESH_SECONDS, sample / (PerVmCollector.FRESH_SECONDS
                            * 1000.0) * 100);
            out.printf("scrape  of which the bulk statistics call itself (libvirt's work and its decoding): %.0f ms%n",
                    call);
            out.printf("scrape  per-VM series add %.0f ms to a scrape (%.0f ms with them, %.0f ms without)%n",
                    on - off, on, off);
            return Promise.report(out, "scrape: at most 100 ms of CPU with 40,000 VMs' series", on <= 100);
        } finally {
            blade.link().close();
            BenchWorld.removeTestDomains(PREFIX);
            connect.close();
        }
    }

    /**
     * The CPU of one scrape (of the whole process, garbage collection
     * included): the median over batches of the mean of a batch (the
     * process clock ticks in 10 ms), after a warm-up.
     */
    private static double cpuOf(Supplier<String> scrape, PrintStream out, String what) {
        String text = "";
        for (int i = 0; i < WARM_UP; i++) {
            text = scrape.get();
        }
        List<Long> batches = new ArrayList<>();
        for (int b = 0; b < BATCHES; b++) {
            long cpu0 = processCpu();
            for (int i = 0; i < PER_BATCH; i++) {
                text = scrape.get();
            }
            batches.add((processCpu() - cpu0) / PER_BATCH);
        }
        long lines = text.lines().filter(l -> !l.startsWith("#")).count();
        double ms = median(batches) / 1e6;
        out.printf("scrape  one /metrics %s (%d samples, %.1f MiB): %.1f ms of CPU (median of %d means of %d);"
                + " every 15 s, %.2f%% of one core%n", what, lines, text.length() / 1048576.0, ms, BATCHES, PER_BATCH,
                ms / 15000 * 100);
        return ms;
    }

    /** A registry with the controller's own meters over {@code book} (as Controller registers them). */
    private static PrometheusMeterRegistry registry(StatusBook book) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Metrics metrics = new Metrics(registry);
        metrics.registerPass(() -> 0.2);
        metrics.registerState(() -> 0, () -> 0, List.of(gauges()), book, () -> false, () -> 0,
                () -> new int[] {book.users().size(), 0, 0}, () -> 0);
        return registry;
    }

    private static Metrics.BladeGauges gauges() {
        return new Metrics.BladeGauges() {
            @Override
            public String name() {
                return "b1";
            }

            @Override
            public boolean up() {
                return true;
            }

            @Override
            public double vcpus() {
                return 64;
            }

            @Override
            public double vcpusAllocated() {
                return 40000;
            }

            @Override
            public double memoryBytes() {
                return 1L << 40;
            }

            @Override
            public double memoryAllocatedBytes() {
                return 40000 * (128L << 20);
            }

            @Override
            public boolean draining() {
                return false;
            }

            @Override
            public double unmovable() {
                return 0;
            }
        };
    }

    private static long processCpu() {
        return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static double median(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        sorted.sort(null);
        return sorted.get(sorted.size() / 2);
    }

    /** The blade's events are not needed here. */
    private static final class Quiet implements org.ievirsh.libvirt.BladeLink.Listener {
        @Override
        public void onConnected(String blade) {
        }

        @Override
        public void onDisconnected(String blade, String reason) {
        }

        @Override
        public void onEvent(org.ievirsh.libvirt.LifecycleEvent event) {
        }
    }
}
