package org.ievirsh.bench;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.Reasons;
import org.ievirsh.api.v1.VirtualMachineFile;
import org.ievirsh.api.v1.VmStatus;

/**
 * ChaosBench is {@code bench chaos}: faults for the whole run while students
 * work, the invariants of {@link ChaosChecks} checked every two seconds
 * from outside, then, once the last fault is undone, the time until every
 * file's status is what the file asks. The random choices follow one seed,
 * printed first, so a run can be made again.
 */
final class ChaosBench {
    /** A fault starts in one tick of 8 on average: one every 4 s. */
    private static final Duration TICK = Duration.ofMillis(500);
    private static final double FAULT_CHANCE = 1.0 / 8;
    private static final Duration CONVERGE_GOAL = Duration.ofSeconds(60);

    private final List<String> history = new ArrayList<>();
    private final Instant began = Instant.now();
    private final PrintStream out;

    private ChaosBench(PrintStream out) {
        this.out = out;
    }

    static int run(int minutes, long seed, int students, List<ChaosWorld.Blade> blades, Path bladesScript,
                   PrintStream out) throws Exception {
        return new ChaosBench(out).measure(minutes, seed, students, blades, bladesScript);
    }

    private synchronized void log(String event) {
        history.add(String.format("%7.1f s  %s", Duration.between(began, Instant.now()).toMillis() / 1000.0, event));
    }

    private int measure(int minutes, long seed, int count, List<ChaosWorld.Blade> blades, Path script)
            throws Exception {
        ready(blades, script);
        Random random = new Random(seed);
        Path logs = Files.createDirectories(Path.of("/tmp", "ie-virsh-chaos-" + seed));
        out.printf("chaos      seed %d (again: --seed %d), %d min, %d students, blades %s; logs in %s%n", seed, seed,
                minutes, count, blades.stream().map(ChaosWorld.Blade::name).toList(), logs);
        try (ChaosWorld world = new ChaosWorld(blades, count, logs)) {
            ChaosFaults faults = new ChaosFaults(world, random, script, this::log);
            ChaosStudents students = new ChaosStudents(world, faults, random, this::log);
            ChaosChecks checks = new ChaosChecks(world);
            world.startController();
            awaitState(world, 0, "200", Duration.ofMinutes(2));
            world.startController();
            awaitState(world, 1, "503 standby", Duration.ofMinutes(2));
            students.begin();
            Duration first = converge(world, Duration.ofMinutes(3))
                    .orElseThrow(() -> new IllegalStateException("the first files did not converge: "
                            + unconverged(world).orElse("?") + "; see " + logs));
            out.printf("start      every first file converged in %.1f s; faults from now on%n", first.toMillis() / 1e3);

            AtomicBoolean running = new AtomicBoolean(true);
            Thread checker = new Thread(() -> {
                while (running.get()) {
                    checks.check(Instant.now()).forEach(v -> report(v));
                    sleep(Duration.ofSeconds(2));
                }
            }, "chaos-checks");
            checker.start();
            Instant end = Instant.now().plus(Duration.ofMinutes(minutes));
            try {
                while (Instant.now().isBefore(end)) {
                    world.supervise(this::log);
                    faults.tick(Instant.now(), FAULT_CHANCE);
                    if (random.nextBoolean()) {
                        students.edit();
                    }
                    sleep(TICK);
                }
                faults.endAll(Instant.now());
                world.supervise(this::log);
                log("the last fault is undone");
                Optional<Duration> converged = converge(world, CONVERGE_GOAL.multipliedBy(2));
                running.set(false);
                checker.join();
                checks.check(Instant.now()).forEach(v -> report(v));
                return summary(faults, students, checks, converged, world);
            } finally {
                running.set(false);
                checker.join();
                faults.endAll(Instant.now());
                Files.write(logs.resolve("history.txt"), history);
            }
        }
    }

    /** The blades answer, the script is there, and students' QEMUs may open /dev/kvm; else what to do. */
    private static void ready(List<ChaosWorld.Blade> blades, Path script) throws java.io.IOException {
        if (!Files.isExecutable(script)) {
            throw new IllegalStateException(script + " is not there: run bench chaos from the repository's root"
                    + " (or give --blades-script)");
        }
        for (ChaosWorld.Blade blade : blades) {
            if (ChaosWorld.output(List.of("virsh", "-q", "-c", blade.uri(), "version")).isEmpty()) {
                throw new IllegalStateException("blade " + blade.name() + " (" + blade.uri() + ") does not answer:"
                        + " bring ./dev test's blades up first: sudo .ci/blades.sh up ievb2 2 ievb3 3");
            }
        }
        Path kvm = Path.of("/dev/kvm");
        if (Files.exists(kvm) && !java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(kvm)).endsWith("rw-")) {
            throw new IllegalStateException("students' QEMUs cannot open /dev/kvm: sudo chmod 666 /dev/kvm (as"
                    + " examples/libvirt/65-kvm.rules does on a blade, and ./dev test while it runs)");
        }
    }

    private void report(ChaosChecks.Violation v) {
        log("VIOLATION " + v.what());
        out.println("VIOLATION  " + v.what());
    }

    private int summary(ChaosFaults faults, ChaosStudents students, ChaosChecks checks, Optional<Duration> converged,
                        ChaosWorld world) {
        int total = faults.injected().values().stream().mapToInt(Integer::intValue).sum();
        out.printf("faults     %d injected, several at once:%n", total);
        faults.injected().forEach((kind, n) -> out.printf("           %3d  %s%n", n, kind.text));
        out.printf("students   %d edits (runStrategy, files added, removed and renamed, images replaced)%n",
                students.edits());
        out.printf("exits      controllers that ended by themselves (started again, as Restart=always does): %s%n",
                world.exits.isEmpty() ? "none" : world.exits.entrySet().stream().map(e -> e.getValue() + " with code "
                        + e.getKey() + (e.getKey() == 70 ? " (the watchdog: no pass for 3 resyncs)" : "")).toList());
        int made = checks.made().values().stream().mapToInt(Integer::intValue).sum();
        out.printf("checks     %d invariant checks:%n", made);
        checks.made().forEach((what, n) -> out.printf("           %6d  %s%n", n, what));
        List<ChaosChecks.Violation> violations = checks.violations();
        out.printf("violations %d%n", violations.size());
        for (ChaosChecks.Violation v : violations) {
            out.println("  " + v.what() + "; what came before it:");
            double at = Duration.between(began, v.since()).toMillis() / 1000.0;
            List<String> before;
            synchronized (this) {
                before = history.stream().filter(h -> Double.parseDouble(h.substring(0, 7).strip()) <= at + 2)
                        .toList();
            }
            before.subList(Math.max(0, before.size() - 25), before.size()).forEach(h -> out.println("    " + h));
        }
        out.printf("converged  %s after the last fault (goal: within %d s)%n", converged
                .map(d -> String.format("%.1f s", d.toMillis() / 1e3)).orElse("not within "
                        + CONVERGE_GOAL.multipliedBy(2).toSeconds() + " s: " + unconverged(world).orElse("?")),
                CONVERGE_GOAL.toSeconds());
        boolean kept = violations.isEmpty() && converged.filter(d -> d.compareTo(CONVERGE_GOAL) <= 0).isPresent();
        return Promise.report(out, "no invariant broken, every file converged within 60 s of the last fault", kept);
    }

    /** Waits until every file's status is what it asks; the time it took, or empty after {@code most}. */
    private Optional<Duration> converge(ChaosWorld world, Duration most) throws java.io.IOException {
        long t0 = System.nanoTime();
        while (System.nanoTime() - t0 < most.toNanos()) {
            world.supervise(this::log);
            if (unconverged(world).isEmpty()) {
                return Optional.of(Duration.ofNanos(System.nanoTime() - t0));
            }
            sleep(TICK);
        }
        return Optional.empty();
    }

    /**
     * The first file whose status is not yet what it asks, or empty: every
     * status names its file's spec hash; a Halted VM is Stopped; of those
     * asking to run, as many run as the quota allows and the rest are
     * QuotaExceeded (not admitted) or Stopped for the running quota; no VM
     * without a file has a domain on a blade.
     */
    static Optional<String> unconverged(ChaosWorld world) {
        Set<String> domains = new TreeSet<>();
        for (ChaosWorld.Blade blade : world.blades) {
            Optional<String> names = ChaosWorld.output(List.of("virsh", "-q", "-c", blade.uri(), "list", "--all",
                    "--name"));
            if (names.isEmpty()) {
                return Optional.of("blade " + blade.name() + " does not answer");
            }
            names.get().lines().map(String::strip).forEach(domains::add);
        }
        for (String student : world.students) {
            Map<String, ChaosWorld.VmFile> files;
            synchronized (world) {
                files = Map.copyOf(world.files.get(student));
            }
            int asking = 0;
            int runningNow = 0;
            for (Map.Entry<String, ChaosWorld.VmFile> f : files.entrySet()) {
                String hash = VirtualMachineFile.parse(f.getKey() + ".yaml",
                        f.getValue().text().getBytes(StandardCharsets.UTF_8)).orThrow().specHash();
                Optional<VmStatus> status = world.world.status(student, f.getKey());
                String where = student + "/" + f.getKey();
                if (status.isEmpty() || !hash.equals(status.get().observedSpecHash())) {
                    return Optional.of(where + ": its status is not of its file yet");
                }
                Phase phase = status.get().phase();
                boolean always = f.getValue().runStrategy().equals("Always");
                asking += always ? 1 : 0;
                runningNow += phase == Phase.Running ? 1 : 0;
                boolean overRunningQuota = phase == Phase.Stopped && status.get().conditions().stream()
                        .anyMatch(c -> Reasons.RUNNING_QUOTA_EXCEEDED.equals(c.reason()));
                if (always ? phase != Phase.Running && phase != Phase.QuotaExceeded && !overRunningQuota
                        : phase != Phase.Stopped) {
                    return Optional.of(where + " asks " + f.getValue().runStrategy() + ", is " + phase + ": "
                            + status.get().message());
                }
            }
            if (runningNow != Math.min(asking, ChaosWorld.QUOTA_RUNNING)) {
                return Optional.of(student + ": " + runningNow + " running of " + asking + " asking");
            }
            for (String image : ChaosWorld.IMAGES) {
                if (!files.containsKey(image) && domains.contains(student + "-" + image)) {
                    return Optional.of(student + "/" + image + " has no file but a domain");
                }
            }
        }
        return Optional.empty();
    }

    private static void awaitState(ChaosWorld world, int node, String state, Duration most) {
        long t0 = System.nanoTime();
        while (!world.controllers.get(node).readyz().startsWith(state)) {
            if (System.nanoTime() - t0 > most.toNanos()) {
                throw new IllegalStateException("controller " + node + " is not '" + state + "': "
                        + world.controllers.get(node).readyz() + "; see its log in " + world.logs);
            }
            sleep(Duration.ofMillis(200));
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
