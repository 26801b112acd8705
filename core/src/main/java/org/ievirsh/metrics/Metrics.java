package org.ievirsh.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.spec.SpecEntry;
import org.ievirsh.status.StatusBook;

/**
 * Metrics are the controller's meters (the README's metrics), on a registry that
 * is passed in. Every label value is registered at zero at start; every
 * meter has a description. Series per user and per VM come from
 * {@link PerVmCollector} instead, which writes them into the {@link
 * Exposition} itself.
 */
public final class Metrics {
    /** RESULTS are the values of {@code result} on {@code ievirsh_reconcile_total}. */
    public static final List<String> RESULTS = List.of("success", "requeue", "error", "panic");
    /** IMAGE_REASONS are the values of {@code reason} on {@code ievirsh_images_rejected}. */
    public static final List<String> IMAGE_REASONS = List.of("ImageNotFound", "ImageIsSymlink", "ImageNotOwned",
            "ImageNotRegular", "WrongFormat", "BackingFile", "ExternalDataFile", "Encrypted", "DamagedImage",
            "ImageInUse", "ImageDirectoryMissing", "ImageDirectoryNotADirectory", "ImageDirectoryForeign",
            "ImageUnreadable", "InsecureImage", "InspectionFailed");
    /** INSPECTION_RESULTS are the values of {@code result} on {@code ievirsh_image_inspections_total}. */
    public static final List<String> INSPECTION_RESULTS = List.of("clean", "insecure", "failed");

    private final MeterRegistry registry;
    /** What /metrics answers (the per-VM series are written there); null for meters on a bare registry. */
    private final Exposition exposition;
    private final Map<String, Counter> reconciles = new ConcurrentHashMap<>();
    private final Timer reconcileDuration;
    private final Timer vmStart;
    private final Counter statusWriteErrors;
    private final Set<String> bladesRegistered = new java.util.HashSet<>();
    private PhaseCounts phaseCounts;
    private final Map<String, Counter> inspections = new ConcurrentHashMap<>();
    private final Timer inspectionDuration;
    private final Map<String, Counter> bladeConnectionErrors = new ConcurrentHashMap<>();
    private final Map<String, Map<String, Integer>> specErrorsByUser = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> specErrors = new ConcurrentHashMap<>();
    private final Map<String, Map<String, Integer>> imagesRejectedByUser = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> imagesRejected = new ConcurrentHashMap<>();
    private final Map<String, Set<String>> changedBasesByUser = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> conflictsByUser = new ConcurrentHashMap<>();
    private final AtomicInteger conflicts = new AtomicInteger();

    /** Meters on {@code registry} alone: the per-VM series are published nowhere (tests, benchmarks). */
    public Metrics(MeterRegistry registry) {
        this(registry, null);
    }

    /** Meters on the registry of {@code exposition}, whose /metrics also carries the per-VM series. */
    public Metrics(Exposition exposition) {
        this(exposition.registry(), exposition);
    }

    private Metrics(MeterRegistry registry, Exposition exposition) {
        this.registry = registry;
        this.exposition = exposition;
        countersByResult("ievirsh.reconcile",
                "Reconciles of a user's VMs, by result (success, requeue, error, panic)", RESULTS, reconciles);
        reconcileDuration = Timer.builder("ievirsh.reconcile.duration")
                .description("Time of one reconcile of a user's VMs, libvirt calls included")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(60))
                .register(registry);
        vmStart = Timer.builder("ievirsh.vm.start")
                .description("Time from a spec that wants a VM running being seen to its domain running")
                .serviceLevelObjectives(Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
                        Duration.ofMillis(100), Duration.ofMillis(150), Duration.ofMillis(250),
                        Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5),
                        Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(60))
                .register(registry);
        countersByResult("ievirsh.image.inspections",
                "Looks inside images for Vagrant's insecure key and password, by result", INSPECTION_RESULTS,
                inspections);
        inspectionDuration = Timer.builder("ievirsh.image.inspection.duration")
                .description("Time of one look inside an image (libguestfs' appliance included)")
                .serviceLevelObjectives(Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10),
                        Duration.ofSeconds(20), Duration.ofSeconds(30), Duration.ofSeconds(60),
                        Duration.ofSeconds(120), Duration.ofSeconds(300))
                .register(registry);
        statusWriteErrors = Counter.builder("ievirsh.status.write.errors")
                .description("Status files that could not be written (a .status that is a link, a full disk)")
                .register(registry);
        for (String reason : SpecEntry.ERROR_REASONS) {
            AtomicInteger value = new AtomicInteger();
            specErrors.put(reason, value);
            Gauge.builder("ievirsh.spec.errors", value, AtomicInteger::get)
                    .description("VM files that are invalid or ignored now, by reason")
                    .tag("reason", reason).register(registry);
        }
        for (String reason : IMAGE_REASONS) {
            AtomicInteger value = new AtomicInteger();
            imagesRejected.put(reason, value);
            Gauge.builder("ievirsh.images.rejected", value, AtomicInteger::get)
                    .description("VMs whose image is refused now, by reason")
                    .tag("reason", reason).register(registry);
        }
        Gauge.builder("ievirsh.vm.conflicts", conflicts, AtomicInteger::get)
                .description("VMs an admin must look at: on two blades, or their domain name taken")
                .register(registry);
    }

    /** One counter per value of {@code result}, registered at zero so every series exists from the start. */
    private void countersByResult(String name, String description, List<String> results, Map<String, Counter> into) {
        for (String result : results) {
            into.put(result, Counter.builder(name).description(description).tag("result", result).register(registry));
        }
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** Publishes the per-user and per-VM series of {@code perVm} at /metrics (nowhere without an exposition). */
    public void publish(PerVmCollector perVm) {
        if (exposition != null) {
            exposition.add(perVm);
        }
    }

    /** Stops publishing them (the controller stops). */
    public void unpublish(PerVmCollector perVm) {
        if (exposition != null) {
            exposition.remove(perVm);
        }
    }

    /** Counts one reconcile and its duration. */
    public void reconciled(String result, Duration took) {
        reconciles.get(result).increment();
        reconcileDuration.record(took);
    }

    public void vmStarted(Duration took) {
        vmStart.record(took);
    }

    /** Counts one inspection: {@code result} one of {@link #INSPECTION_RESULTS}. */
    public void inspected(String result, Duration took) {
        inspections.get(result).increment();
        inspectionDuration.record(took);
    }

    public void statusWriteFailed() {
        statusWriteErrors.increment();
    }

    /** Sets the current spec errors of one user, by reason (the totals are their sums). */
    public void specErrors(String user, Map<String, Integer> byReason) {
        replace(specErrorsByUser, specErrors, user, byReason);
    }

    /** Sets the current image refusals of one user, by reason. */
    public void imagesRejected(String user, Map<String, Integer> byReason) {
        replace(imagesRejectedByUser, imagesRejected, user, byReason);
    }

    public void conflicts(String user, int count) {
        AtomicInteger old = conflictsByUser.computeIfAbsent(user, u -> new AtomicInteger());
        conflicts.addAndGet(count - old.getAndSet(count));
    }

    /** Sets the bases that changed under the VMs of one user (their disks were made from another file). */
    public void changedBases(String user, Set<String> names) {
        if (names.isEmpty()) {
            changedBasesByUser.remove(user);
        } else {
            changedBasesByUser.put(user, Set.copyOf(names));
        }
    }

    /** The bases that changed under some VM, by name. */
    public Set<String> changedBases() {
        Set<String> all = new TreeSet<>();
        changedBasesByUser.values().forEach(all::addAll);
        return all;
    }

    /** Registers {@code ievirsh_base_images{state}}, read from {@code counts} (state to number of bases). */
    public void registerBases(Supplier<Map<String, Integer>> counts) {
        for (String state : List.of("ready", "rejected", "insecure", "changed")) {
            Gauge.builder("ievirsh.base.images", counts, c -> c.get().getOrDefault(state, 0))
                    .description("Base images of baseImages.root by state: ready; rejected (breaks a rule of the"
                            + " catalog); insecure (the look inside refused it); changed (not the file VMs were made"
                            + " from)").tag("state", state).strongReference(true).register(registry);
        }
    }

    /** Forgets what a user contributed (their directory is gone). */
    public void forgetUser(String user) {
        changedBases(user, Set.of());
        specErrors(user, Map.of());
        imagesRejected(user, Map.of());
        conflicts(user, 0);
    }

    private static void replace(Map<String, Map<String, Integer>> byUser, Map<String, AtomicInteger> totals,
                                String user, Map<String, Integer> now) {
        synchronized (byUser) {
            Map<String, Integer> before = byUser.getOrDefault(user, Map.of());
            before.forEach((reason, n) -> {
                AtomicInteger total = totals.get(reason);
                if (total != null) {
                    total.addAndGet(-n);
                }
            });
            now.forEach((reason, n) -> {
                AtomicInteger total = totals.get(reason);
                if (total != null) {
                    total.addAndGet(n);
                }
            });
            if (now.isEmpty()) {
                byUser.remove(user);
            } else {
                byUser.put(user, Map.copyOf(now));
            }
        }
    }

    /** Counts a lost or refused connection to a blade. */
    public void bladeConnectionError(String blade) {
        bladeConnectionErrors.computeIfAbsent(blade, b -> Counter.builder("ievirsh.blade.connection.errors")
                .description("Connections to a blade that failed or were lost").tag("blade", b)
                .register(registry)).increment();
    }

    /** Registers the meters that read the controller's state: queue, blades, VMs by phase, guard, users. */
    public void registerState(Supplier<Integer> queueDepth, Supplier<Integer> activeWorkers,
                              Collection<BladeGauges> blades, StatusBook book, Supplier<Boolean> guardTripped,
                              Supplier<Integer> pendingRemovals, Supplier<int[]> userCounts,
                              Supplier<Integer> orphans) {
        Gauge.builder("ievirsh.workqueue.depth", queueDepth, s -> s.get())
                .description("Keys waiting in the work queue").strongReference(true).register(registry);
        Gauge.builder("ievirsh.workqueue.active.workers", activeWorkers, s -> s.get())
                .description("Reconciles running now").strongReference(true).register(registry);
        phaseCounts = new PhaseCounts(book);
        for (BladeGauges blade : blades) {
            registerBlade(blade);
        }
        for (Phase phase : Phase.values()) {
            Gauge.builder("ievirsh.vms", phaseCounts, c -> c.get("none", phase))
                    .description("VMs by blade (none: not placed) and phase").tag("blade", "none")
                    .tag("phase", phase.name()).strongReference(true).register(registry);
        }
        Gauge.builder("ievirsh.vms.expiring", book, StatusBook::countExpiring)
                .description("VMs within lifecycle.warnBefore of their expiry (expired ones are ievirsh_vms{phase=\"Expired\"})")
                .strongReference(true).register(registry);
        Gauge.builder("ievirsh.deletion.guard.tripped", guardTripped, s -> s.get() ? 1 : 0)
                .description("1 while the deletion guard holds back removals and waits for an admin")
                .strongReference(true).register(registry);
        Gauge.builder("ievirsh.pending.removals", pendingRemovals, s -> s.get())
                .description("VMs whose file is gone and whose domain is still there").strongReference(true).register(registry);
        String[] states = {"active", "unresolved", "conflicting"};
        for (int i = 0; i < states.length; i++) {
            int index = i;
            Gauge.builder("ievirsh.users", userCounts, s -> s.get()[index])
                    .description("Student directories: acted on, owner not resolvable by NSS, or several per uid")
                    .tag("state", states[i]).strongReference(true).register(registry);
        }
        Gauge.builder("ievirsh.orphan.domains", orphans, s -> s.get())
                .description("Managed domains whose owner has no directory now (never removed automatically)")
                .strongReference(true).register(registry);
    }

    /** Registers the meters of one blade (at the start, or when a live config adds it). */
    public synchronized void registerBlade(BladeGauges blade) {
        String name = blade.name();
        if (!bladesRegistered.add(name)) {
            return;
        }
        bladeConnectionErrors.computeIfAbsent(name, b -> Counter.builder("ievirsh.blade.connection.errors")
                .description("Connections to a blade that failed or were lost").tag("blade", b)
                .register(registry));
        Gauge.builder("ievirsh.blade.up", blade, b -> b.up() ? 1 : 0)
                .description("1 when the blade is connected").tag("blade", name).strongReference(true).register(registry);
        Gauge.builder("ievirsh.blade.vcpus", blade, BladeGauges::vcpus)
                .description("vCPUs VMs may use on the blade (capacity minus reserved)").tag("blade", name)
                .strongReference(true).register(registry);
        Gauge.builder("ievirsh.blade.vcpus.allocated", blade, BladeGauges::vcpusAllocated)
                .description("vCPUs of the VMs placed on the blade").tag("blade", name).strongReference(true)
                .register(registry);
        Gauge.builder("ievirsh.blade.memory", blade, BladeGauges::memoryBytes).baseUnit("bytes")
                .description("Memory VMs may use on the blade (capacity minus reserved)").tag("blade", name)
                .strongReference(true).register(registry);
        Gauge.builder("ievirsh.blade.memory.allocated", blade, BladeGauges::memoryAllocatedBytes)
                .baseUnit("bytes").description("Memory of the VMs placed on the blade").tag("blade", name)
                .strongReference(true).register(registry);
        Gauge.builder("ievirsh.blade.draining", blade, b -> b.draining() ? 1 : 0)
                .description("1 while VMs the controller moves are left on a blade the config drains").tag("blade", name)
                .strongReference(true).register(registry);
        Gauge.builder("ievirsh.blade.unmovable", blade, BladeGauges::unmovable)
                .description("Domains on a draining blade that the controller does not move (orphans, domains not its"
                        + " own): an admin moves or removes them").tag("blade", name).strongReference(true)
                .register(registry);
        for (Phase phase : Phase.values()) {
            Gauge.builder("ievirsh.vms", phaseCounts, c -> c.get(name, phase))
                    .description("VMs by blade (none: not placed) and phase").tag("blade", name)
                    .tag("phase", phase.name()).strongReference(true).register(registry);
        }
    }

    /** Registers the duration of the last full pass over every student directory. */
    public void registerPass(Supplier<Double> seconds) {
        Gauge.builder("ievirsh.resync.pass", seconds, Supplier::get).baseUnit("seconds").strongReference(true)
                .description("Time the last full pass (discovery, then every user once) took").register(registry);
    }

    /** BladeGauges is what the blade meters read. */
    public interface BladeGauges {
        String name();

        boolean up();

        double vcpus();

        double vcpusAllocated();

        double memoryBytes();

        double memoryAllocatedBytes();

        /** True while the config drains the blade and VMs of known students are left on it. */
        boolean draining();

        /** On a draining blade, the domains the controller does not move: orphans and domains not its own. */
        double unmovable();
    }

    /** PhaseCounts counts VMs by blade and phase once per scrape, not once per series. */
    private static final class PhaseCounts {
        private final StatusBook book;
        private Map<String, Map<Phase, Integer>> counts = Map.of();
        private long takenAt;

        PhaseCounts(StatusBook book) {
            this.book = book;
        }

        synchronized double get(String blade, Phase phase) {
            long now = System.nanoTime();
            if (now - takenAt > 1_000_000_000L || takenAt == 0) {
                counts = book.countByBladeAndPhase();
                takenAt = now;
            }
            return counts.getOrDefault(blade, Map.of()).getOrDefault(phase, 0);
        }
    }
}
