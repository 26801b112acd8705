package org.ievirsh.bench;

import com.sun.management.OperatingSystemMXBean;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.ievirsh.address.AddressBook;
import org.ievirsh.controller.Controller;
import org.ievirsh.metrics.Exposition;

/**
 * IdleCost measures what a converged controller costs while nothing
 * changes: CPU over resync periods (and the JIT's part of it), heap after GC,
 * RSS, one full pass, and what a Prometheus scrape adds.
 */
final class IdleCost {

    private IdleCost() {
    }

    /** The idle cost of a converged controller: CPU, heap after GC, RSS, and the time of one full pass. */
    static int idle(Controller controller, Duration resync, int periods, PrintStream out)
            throws InterruptedException, IOException {
        // Warm up past the first full blade listing after the rush (one every 5 minutes: its code is compiled
        // again then, once) and past a few passes: the JIT compiles the resync path only after it ran a few times.
        Thread.sleep(Math.max(resync.toMillis() * 4, Controller.FULL_LISTING.toMillis() + resync.toMillis()));
        // The VMs whose agent and ARP were not asked yet: each first answer that tells something wakes its
        // student (a pass and a status written), 20 a second, until every VM of the fleet had its turn.
        AddressBook book = controller.addresses();
        out.printf("idle  address book: %d of %d running VMs not asked yet as the periods begin (20 a second)%n",
                book.notAskedYet(), book.followed());
        OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        java.lang.management.CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        long jit0 = jit.getTotalCompilationTime();
        long cpu0 = os.getProcessCpuTime();
        long wall0 = System.nanoTime();
        io.micrometer.core.instrument.Timer reconciles = controller.metrics().registry()
                .get("ievirsh.reconcile.duration").timer();
        ThreadCpu whole = new ThreadCpu();
        ThreadCpu half = whole;
        List<Long> passes = new ArrayList<>();
        long cpuAt = cpu0;
        long jitAt = jit0;
        long wallAt = wall0;
        long reconcilesAt = reconciles.count();
        long afreshAt = controller.readAfresh();
        long askedAt = book.asked();
        for (int i = 0; i < periods; i++) {
            Thread.sleep(resync.toMillis());
            passes.add(controller.lastPass().toMillis());
            long cpu = os.getProcessCpuTime();
            long compiled = jit.getTotalCompilationTime();
            long wall = System.nanoTime();
            out.printf("idle  (period %d: %.2f%% of one core, JIT %.2f%%, pass %d ms; %d reconciles, %d of them"
                    + " reading files afresh; %d address calls)%n", i + 1,
                    (cpu - cpuAt) * 100.0 / (wall - wallAt), (compiled - jitAt) * 1e6 * 100.0 / (wall - wallAt),
                    passes.get(i), reconciles.count() - reconcilesAt, controller.readAfresh() - afreshAt,
                    book.asked() - askedAt);
            cpuAt = cpu;
            jitAt = compiled;
            wallAt = wall;
            reconcilesAt = reconciles.count();
            afreshAt = controller.readAfresh();
            askedAt = book.asked();
            if (i + 1 == periods / 2) {
                half.print(out, "idle  first half of the periods:");
                half = new ThreadCpu();
            }
        }
        if (half != whole) {
            half.print(out, "idle  second half of the periods:");
        }
        whole.print(out, "idle  all the periods:");
        out.printf("idle  address book: %d not asked yet as they end%n", book.notAskedYet());
        double cpu = (os.getProcessCpuTime() - cpu0) * 100.0 / (System.nanoTime() - wall0);
        double jitShare = (jit.getTotalCompilationTime() - jit0) * 1e6 * 100.0 / (System.nanoTime() - wall0);
        System.gc();
        Thread.sleep(500);
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        passes.sort(null);
        out.printf("idle  CPU over %d resync periods of %d s, addresses on: %.2f%% of one core (goal < 1%%; v1 < 2%%),"
                + " of which the JIT"
                + " compiler about %.2f%%%n", periods, resync.toSeconds(), cpu, jitShare);
        out.printf("idle  heap after GC: %d MiB (goal < 256 MiB); RSS %d MiB%n", heap >> 20, rss() >> 20);
        long pass = passes.get(passes.size() / 2);
        out.printf("idle  full resync pass: median %d ms (goal < 2000 ms; interval %d s)%n", pass,
                resync.toSeconds());
        return Promise.all(Promise.report(out, "idle: under 1% of one core, addresses on", cpu < 1),
                Promise.report(out, "idle: heap under 256 MiB", heap < (256L << 20)),
                Promise.report(out, "idle: a full resync well under the interval (under half)",
                        pass * 2 < resync.toMillis()));
    }

    /**
     * What Prometheus adds to the idle cost: one scrape of /metrics (every
     * series, the per-VM ones of all 40,000 VMs included), measured as CPU
     * of the whole process. The VMs' usage is sampled apart, every 30 s
     * while scraped (bench scrape measures both).
     */
    static void scrapes(Exposition metrics, PrintStream out) throws InterruptedException {
        OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        List<Long> cpu = new ArrayList<>();
        int bytes = 0;
        long lines = 0;
        for (int i = 0; i < 6; i++) {
            Thread.sleep(1000);
            long cpu0 = os.getProcessCpuTime();
            String text = metrics.text();
            cpu.add(os.getProcessCpuTime() - cpu0);
            bytes = text.length();
            lines = text.lines().filter(l -> !l.startsWith("#")).count();
        }
        cpu.remove(0);  // the first one compiles the exposition code
        cpu.sort(null);
        double ms = cpu.get(cpu.size() / 2) / 1e6;
        out.printf("idle  one /metrics scrape (%d samples, %.1f MiB): median %.0f ms of CPU; scraped every 15 s,"
                + " %.2f%% of one core more%n", lines, bytes / 1048576.0, ms, ms / 15000 * 100);
    }

    private static long rss() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return 0;
    }
}
