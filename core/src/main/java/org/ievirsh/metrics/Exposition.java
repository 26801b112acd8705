package org.ievirsh.metrics;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Exposition is what {@code /metrics} answers: the registry's meters (as
 * Micrometer writes them), then the per-user and per-VM series, which
 * {@link PerVmCollector} writes itself in the same text format.
 */
public final class Exposition {
    private final PrometheusMeterRegistry registry;
    private final List<PerVmCollector> perVm = new CopyOnWriteArrayList<>();
    /** The size of the last answer: the next one is built in a buffer of that size at once. */
    private volatile int lastSize = 1 << 16;

    public Exposition(PrometheusMeterRegistry registry) {
        this.registry = registry;
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** Adds the per-VM series of a controller (the one that leads). */
    public void add(PerVmCollector collector) {
        perVm.add(collector);
    }

    public void remove(PerVmCollector collector) {
        perVm.remove(collector);
    }

    /** The whole text (Prometheus text format 0.0.4). */
    public String text() {
        StringBuilder out = new StringBuilder(lastSize + (lastSize >> 3));
        out.append(registry.scrape());
        for (PerVmCollector collector : perVm) {
            collector.writeTo(out);
        }
        lastSize = out.length();
        return out.toString();
    }

    /** The same as UTF-8 bytes, as served. */
    public byte[] bytes() {
        return text().getBytes(StandardCharsets.UTF_8);
    }
}
