package org.ievirsh.metrics;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Logger;
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
 * (the README's metrics): VMs and quota per user, CPU time and memory per VM.
 * They are written straight in Prometheus' text format (docs/performance.md:
 * 40,000 VMs' series in a scrape of at most 100 ms of CPU): each series'
 * name and labels are escaped once, when its VM or user first appears, and
 * a scrape appends only the values. CPU and memory come from one bulk
 * statistics call per blade, never one call per VM, and never in the
 * scrape: a scrape that finds the last sample older than {@link
 * #FRESH_SECONDS} answers with it and has a new one taken in the
 * background. A controller nobody scrapes takes no samples.
 */
public final class PerVmCollector implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(PerVmCollector.class.getName());

    /**
     * FRESH_SECONDS is how old a sample may get before a scrape has a new
     * one taken: the dashboard's rates span 5 minutes, so 30 s leaves them
     * ten points, and one sample of 40,000 VMs costs about what a dozen
     * whole scrapes do (bench scrape).
     */
    public static final int FRESH_SECONDS = 30;
    private static final long FRESH_NANOS = FRESH_SECONDS * 1_000_000_000L;
    /** FIRST_WAIT_MILLIS is how long the first scrape waits for the first sample. */
    static final long FIRST_WAIT_MILLIS = 2000;

    private static final String USER_VMS = "ievirsh_user_vms";
    private static final String USER_QUOTA = "ievirsh_user_quota_vms";
    private static final String VM_CPU = "ievirsh_vm_cpu_seconds_total";
    private static final String VM_MEMORY = "ievirsh_vm_memory_bytes";

    private final Fleet fleet;
    private final StatusBook book;
    private final long freshNanos;
    /** The last sample of each VM, in the order of their labels (user, then VM): one series each. */
    private volatile List<Sample> samples = List.of();
    private volatile long sampledAt;
    private Future<?> pending;
    private final ExecutorService sampler = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "per-vm-usage");
        t.setDaemon(true);
        return t;
    });
    /** Users with their VM quota and their series' names and labels, in the order of their labels. */
    private final Map<String, UserSeries> users = new ConcurrentSkipListMap<>();

    /** Sample is one VM's usage with its series' names and labels (escaped once per VM, kept from sample to sample). */
    private record Sample(String key, String cpu, String memory, long cpuNanos, long memoryBytes) {
    }

    /** UserSeries is one user's VM quota and the names and labels of their two series. */
    private record UserSeries(String vms, String quota, int quotaVms) {
    }

    private static final Comparator<Sample> LABEL_ORDER = Comparator.comparing(Sample::key);

    public PerVmCollector(Fleet fleet, StatusBook book) {
        this(fleet, book, FRESH_NANOS);
    }

    /** The same with samples fresh for {@code freshNanos} (tests). */
    PerVmCollector(Fleet fleet, StatusBook book, long freshNanos) {
        this.fleet = fleet;
        this.book = book;
        this.freshNanos = freshNanos;
    }

    /**
     * Has a sample taken when the last one is older than {@link
     * #FRESH_SECONDS}: in the background, so that a scrape never waits on a
     * blade (the very first one waits up to {@link #FIRST_WAIT_MILLIS} for
     * it, so that a first scrape has the series when the blades answer).
     */
    private void sampleIfStale() {
        long at = sampledAt;
        if (at != 0 && System.nanoTime() - at <= freshNanos) {
            return;
        }
        Future<?> running = refresh();
        if (at == 0 && running != null) {
            try {
                running.get(FIRST_WAIT_MILLIS, TimeUnit.MILLISECONDS);
            } catch (TimeoutException | ExecutionException e) {
                LOG.fine(() -> "the first usage sample is not there yet: " + e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * The sample being taken, started now unless one is; null once closed.
     * (Its own lock: the one of {@link #sample} is held while a blade answers.)
     */
    private Future<?> refresh() {
        synchronized (sampler) {
            if (pending == null || pending.isDone()) {
                try {
                    pending = sampler.submit(this::sample);
                } catch (RejectedExecutionException e) {
                    return null;
                }
            }
            return pending;
        }
    }

    /** Takes one sample of every blade's running domains (one bulk call each). */
    public synchronized void sample() {
        Map<String, Sample> known = new HashMap<>();
        for (Sample last : samples) {
            known.put(last.key(), last);
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
                        Sample last = known.get(key);
                        if (last == null) {
                            String labels = "{user=\"" + escape(d.config().user()) + "\",vm=\""
                                    + escape(d.config().vm()) + "\"} ";
                            last = new Sample(key, VM_CPU + labels, VM_MEMORY + labels, 0, 0);
                            known.put(key, last);
                        }
                        next.add(new Sample(key, last.cpu(), last.memory(), u.cpuNanos(), u.memoryBytes()));
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
        sampledAt = System.nanoTime();
    }

    /** Records a user's VM quota as the last reconcile resolved it. */
    public void quotaOf(String user, QuotaLimits limits) {
        UserSeries known = users.get(user);
        if (known == null || known.quotaVms() != limits.vms()) {
            String labels = "{user=\"" + escape(user) + "\"} ";
            users.put(user, new UserSeries(USER_VMS + labels, USER_QUOTA + labels, limits.vms()));
        }
    }

    /** Forgets a user who has no directory any more. */
    public void forget(String user) {
        users.remove(user);
    }

    /**
     * Appends the four families in Prometheus' text format (version 0.0.4):
     * their HELP and TYPE lines, then one line per user or per VM.
     */
    public void writeTo(StringBuilder out) {
        sampleIfStale();
        family(out, USER_VMS, "VMs of a user that count against the quota (admitted)", "gauge");
        for (Map.Entry<String, UserSeries> user : users.entrySet()) {
            out.append(user.getValue().vms()).append(book.admitted(user.getKey())).append('\n');
        }
        family(out, USER_QUOTA, "VMs a user may have (quota)", "gauge");
        for (UserSeries user : users.values()) {
            out.append(user.quota()).append(user.quotaVms()).append('\n');
        }
        List<Sample> now = samples;
        family(out, VM_CPU, "CPU time used by a VM's domain since it started", "counter");
        for (Sample s : now) {
            seconds(out.append(s.cpu()), s.cpuNanos()).append('\n');
        }
        family(out, VM_MEMORY, "Memory a running VM's domain holds on its blade (resident set)", "gauge");
        for (Sample s : now) {
            out.append(s.memory()).append(s.memoryBytes()).append('\n');
        }
    }

    private static void family(StringBuilder out, String name, String help, String type) {
        out.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(' ')
                .append(type).append('\n');
    }

    /** {@code nanos} as seconds with nine decimals, exactly (no floating point). */
    static StringBuilder seconds(StringBuilder out, long nanos) {
        long whole = nanos / 1_000_000_000L;
        long fraction = nanos % 1_000_000_000L;
        out.append(whole).append('.');
        for (long digit = 100_000_000L; digit > fraction && digit > 1; digit /= 10) {
            out.append('0');
        }
        return out.append(fraction);
    }

    /** A label value as the text format wants it: backslash, double quote and line feed escaped. */
    static String escape(String value) {
        StringBuilder out = null;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            String replacement = c == '\\' ? "\\\\" : c == '"' ? "\\\"" : c == '\n' ? "\\n" : null;
            if (replacement != null && out == null) {
                out = new StringBuilder(value.length() + 8).append(value, 0, i);
            }
            if (out != null) {
                if (replacement != null) {
                    out.append(replacement);
                } else {
                    out.append(c);
                }
            }
        }
        return out == null ? value : out.toString();
    }

    @Override
    public void close() {
        sampler.shutdownNow();
    }
}
