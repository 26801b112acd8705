package org.ievirsh.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.logging.Logger;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.blade.Blade;
import org.ievirsh.blade.Fleet;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.libvirt.DomainUsage;
import org.ievirsh.libvirt.Hypervisor;
import org.ievirsh.libvirt.HypervisorException;
import org.ievirsh.quota.QuotaLimits;
import org.ievirsh.status.StatusBook;

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
    /** The last sample of each VM, in the order of their labels (user, then VM). */
    private volatile List<Sample> samples = List.of();
    private long sampledAt;
    /**
     * Users and their VM quota, in the order of their labels. A snapshot
     * sorts its data points by labels: handed over in that order, 40,000
     * VMs are checked in one pass instead of sorted afresh at every scrape.
     */
    private final Map<String, Integer> quotaVms = new ConcurrentSkipListMap<>();

    /** Sample is one VM's usage with its labels (made once per VM, kept from sample to sample). */
    private record Sample(String key, Labels labels, double cpuSeconds, double memoryBytes) {
    }

    private static final Comparator<Sample> LABEL_ORDER = Comparator.comparing(Sample::key);

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
        Map<String, Labels> known = new HashMap<>();
        for (Sample last : samples) {
            known.put(last.key(), last.labels());
        }
        List<Sample> next = new ArrayList<>(samples.size());
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
                        // "\0" sorts before every character of a name: user "ab" comes before user "ab-c".
                        String key = d.config().user() + "\0" + d.config().vm();
                        Labels labels = known.get(key);
                        if (labels == null) {
                            labels = Labels.of("user", d.config().user(), "vm", d.config().vm());
                        }
                        next.add(new Sample(key, labels, u.cpuNanos() / 1e9, u.memoryBytes()));
                    }
                }
            } catch (HypervisorException | RuntimeException e) {
                LOG.fine(() -> "usage of " + blade.name() + ": " + e.getMessage());
            }
        }
        next.sort(LABEL_ORDER);
        // One series per VM, even while a VM has a domain on two blades (the first blade's is kept).
        List<Sample> unique = new ArrayList<>(next.size());
        for (Sample sample : next) {
            if (unique.isEmpty() || !unique.get(unique.size() - 1).key().equals(sample.key())) {
                unique.add(sample);
            }
        }
        samples = unique;
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
            for (Sample s : samples) {
                cpu.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().labels(s.labels())
                        .value(s.cpuSeconds()).build());
                memory.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(s.labels())
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
