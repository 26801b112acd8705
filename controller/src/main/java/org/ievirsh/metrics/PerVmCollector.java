package org.ievirsh.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.HashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Map;
import java.util.logging.Logger;
import org.ievirsh.blade.Blade;
import org.ievirsh.blade.Fleet;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.libvirt.DomainUsage;
import org.ievirsh.libvirt.Hypervisor;
import org.ievirsh.libvirt.HypervisorException;
import org.ievirsh.quota.QuotaLimits;
import org.ievirsh.status.StatusBook;
import org.ievirsh.status.VmStatus;

/**
 * PerVmCollector gives the series per user and per VM that admins need
 * (PRODUCT.md §7): VMs and quota per user, CPU time and memory per VM. They
 * are built at scrape time from what the controller holds; CPU and memory
 * come from one bulk statistics call per blade, taken at a scrape when the
 * last one is older than 5 seconds: never one call per VM.
 */
public final class PerVmCollector {
    private static final Logger LOG = Logger.getLogger(PerVmCollector.class.getName());

    /** FRESH is how old a sample may be when a scrape reads it; older ones are taken again first. */
    static final long FRESH_NANOS = 5_000_000_000L;

    private final Fleet fleet;
    private final StatusBook book;
    private volatile Map<String, Sample> samples = Map.of();
    private long sampledAt;
    private final Map<String, Integer> quotaVms = new ConcurrentHashMap<>();

    /** Sample is one VM's usage, keyed by user and VM. */
    private record Sample(String user, String vm, double cpuSeconds, double memoryBytes) {
    }

    public PerVmCollector(Fleet fleet, StatusBook book) {
        this.fleet = fleet;
        this.book = book;
    }

    /** Takes a sample unless the last one is fresh: at most one bulk call per blade per {@link #FRESH_NANOS}. */
    synchronized void sampleIfStale() {
        long now = System.nanoTime();
        if (sampledAt == 0 || now - sampledAt > FRESH_NANOS) {
            sample();
            sampledAt = System.nanoTime();
        }
    }

    /** Takes one sample of every blade's running domains (one bulk call each). */
    public void sample() {
        Map<String, Sample> next = new HashMap<>();
        for (Blade blade : fleet.blades()) {
            Hypervisor hypervisor = blade.hypervisor().orElse(null);
            if (hypervisor == null) {
                continue;
            }
            try {
                Map<String, DomainUsage> usage = hypervisor.usage();
                for (ObservedDomain d : blade.view().all()) {
                    DomainUsage u = usage.get(d.uuid());
                    if (u != null) {
                        next.put(d.config().user() + "/" + d.config().vm(), new Sample(d.config().user(),
                                d.config().vm(), u.cpuNanos() / 1e9, u.memoryBytes()));
                    }
                }
            } catch (HypervisorException | RuntimeException e) {
                LOG.fine(() -> "usage of " + blade.name() + ": " + e.getMessage());
            }
        }
        samples = next;
    }

    /** Records a user's VM quota as the last reconcile resolved it. */
    public void quotaOf(String user, QuotaLimits limits) {
        quotaVms.put(user, limits.vms());
    }

    /** Forgets a user who has no directory any more. */
    public void forget(String user) {
        quotaVms.remove(user);
    }

    /** Registers the collector on a Prometheus registry; on any other registry, per-VM series are not kept. */
    public void register(MeterRegistry registry) {
        if (registry instanceof PrometheusMeterRegistry prometheus) {
            prometheus.getPrometheusRegistry().register(new Collector());
        }
    }

    private final class Collector implements MultiCollector {
        @Override
        public MetricSnapshots collect() {
            sampleIfStale();
            GaugeSnapshot.Builder userVms = GaugeSnapshot.builder().name("ievirsh_user_vms")
                    .help("VMs of a user that count against the quota (admitted)");
            GaugeSnapshot.Builder userQuota = GaugeSnapshot.builder().name("ievirsh_user_quota_vms")
                    .help("VMs a user may have (quota)");
            for (Map.Entry<String, Integer> user : quotaVms.entrySet()) {
                long admitted = book.ofUser(user.getKey()).values().stream().filter(PerVmCollector::admitted).count();
                userVms.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder()
                        .labels(Labels.of("user", user.getKey())).value(admitted).build());
                userQuota.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder()
                        .labels(Labels.of("user", user.getKey())).value(user.getValue()).build());
            }
            CounterSnapshot.Builder cpu = CounterSnapshot.builder().name("ievirsh_vm_cpu_seconds")
                    .help("CPU time used by a VM's domain since it started").unit(Unit.SECONDS);
            GaugeSnapshot.Builder memory = GaugeSnapshot.builder().name("ievirsh_vm_memory_bytes")
                    .help("Memory a running VM's domain holds on its blade (resident set)");
            for (Sample s : samples.values()) {
                Labels labels = Labels.of("user", s.user(), "vm", s.vm());
                cpu.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().labels(labels)
                        .value(s.cpuSeconds()).build());
                memory.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels)
                        .value(s.memoryBytes()).build());
            }
            return MetricSnapshots.of(userVms.build(), userQuota.build(), cpu.build(), memory.build());
        }
    }

    private static boolean admitted(VmStatus status) {
        var condition = status.condition("Admitted");
        return condition != null && "True".equals(condition.status());
    }
}
