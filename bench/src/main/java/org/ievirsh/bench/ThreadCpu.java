package org.ievirsh.bench;

import com.sun.management.OperatingSystemMXBean;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.Map;
import java.util.TreeMap;

/**
 * ThreadCpu is where a process's CPU went between two moments, by group of
 * Java threads (a thread's name without its trailing number: all the
 * {@code reconcile-N} workers are one group), and what no Java thread
 * accounts for (the JVM's own threads: GC, JIT, its periodic task).
 * CPU of threads that ended meanwhile counts as the JVM's.
 */
final class ThreadCpu {
    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private final Map<Long, Long> atStart;
    private final Map<Long, String> names = new TreeMap<>();
    private final long processAtStart;
    private final long wallAtStart;

    ThreadCpu() {
        threads.setThreadCpuTimeEnabled(true);
        processAtStart = os.getProcessCpuTime();
        wallAtStart = System.nanoTime();
        atStart = perThread();
    }

    private Map<Long, Long> perThread() {
        Map<Long, Long> cpu = new TreeMap<>();
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info == null) {
                continue;
            }
            long t = threads.getThreadCpuTime(info.getThreadId());
            if (t >= 0) {
                cpu.put(info.getThreadId(), t);
                names.put(info.getThreadId(), info.getThreadName());
            }
        }
        return cpu;
    }

    static String group(String threadName) {
        return threadName.replaceAll("[-#]?\\d+$", "");
    }

    /** Prints each group's share of one core since the start, largest first, under {@code label}. */
    void print(PrintStream out, String label) {
        Map<Long, Long> now = perThread();
        long wall = System.nanoTime() - wallAtStart;
        long process = os.getProcessCpuTime() - processAtStart;
        Map<String, Long> byGroup = new TreeMap<>();
        long java = 0;
        for (Map.Entry<Long, Long> e : now.entrySet()) {
            long used = e.getValue() - atStart.getOrDefault(e.getKey(), 0L);
            java += used;
            byGroup.merge(group(names.get(e.getKey())), used, Long::sum);
        }
        StringBuilder line = new StringBuilder();
        byGroup.entrySet().stream()
                .filter(e -> e.getValue() * 10_000.0 / wall >= 0.5)  // 0.005 % of a core and more
                .sorted((a, b) -> Long.compare(b.getValue(), a.getValue()))
                .forEach(e -> line.append(String.format(", %s %.2f%%", e.getKey(), e.getValue() * 100.0 / wall)));
        out.printf("%s where the CPU went (%% of one core): all %.2f%%, JVM's own threads %.2f%%%s%n", label,
                process * 100.0 / wall, (process - java) * 100.0 / wall, line);
    }
}
