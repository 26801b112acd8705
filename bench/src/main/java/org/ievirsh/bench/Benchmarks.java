package org.ievirsh.bench;

import java.io.PrintStream;
import org.ievirsh.bench.micro.HotPaths;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/** Benchmarks are the scenarios {@code ie-virsh bench} runs. */
public final class Benchmarks {
    private Benchmarks() {
    }

    public static int latency(String uri, int runs, PrintStream out) throws Exception {
        return LatencyBench.run(uri, runs, out);
    }

    public static int base(String uri, int runs, PrintStream out) throws Exception {
        return BaseBench.run(uri, runs, out);
    }

    public static int course(String uri, int students, PrintStream out) throws Exception {
        return CourseBench.run(uri, students, out);
    }

    public static int addresses(int runs, PrintStream out) throws Exception {
        return AddressBench.run(runs, out);
    }

    public static int drain(String from, String to, int vms, PrintStream out) throws Exception {
        return DrainBench.run(from, to, vms, out);
    }

    public static int hostile(String blade, java.nio.file.Path guest, int runs, PrintStream out) throws Exception {
        return HostileBench.run(blade, guest, runs, out);
    }

    public static int takeover(int runs, PrintStream out) throws Exception {
        return TakeoverBench.run(runs, out);
    }

    /** {@code blades}: NAME=URI each. */
    public static int chaos(int minutes, long seed, int students, java.util.List<String> blades,
                            java.nio.file.Path bladesScript, PrintStream out) throws Exception {
        java.util.List<ChaosWorld.Blade> named = new java.util.ArrayList<>();
        for (String b : blades) {
            int eq = b.indexOf('=');
            if (eq < 1) {
                throw new IllegalArgumentException("--blades wants NAME=URI, not " + b);
            }
            named.add(new ChaosWorld.Blade(b.substring(0, eq), b.substring(eq + 1)));
        }
        return ChaosBench.run(minutes, seed, students, named, bladesScript, out);
    }

    public static int noisy(int runs, PrintStream out) throws Exception {
        return NoisyBench.run(runs, out);
    }

    /** Runs the JMH microbenchmarks of the hot pure paths (parse, render, plan) in forked JVMs. */
    public static int micro(PrintStream out) throws Exception {
        Options options = new OptionsBuilder().include(HotPaths.class.getName()).forks(1)
                .warmupIterations(3).warmupTime(TimeValue.seconds(1))
                .measurementIterations(5).measurementTime(TimeValue.seconds(1)).build();
        for (RunResult result : new Runner(options).run()) {
            out.printf("micro  %s: %.2f us per operation (+- %.2f)%n",
                    result.getParams().getBenchmark().replace(HotPaths.class.getName() + ".", ""),
                    result.getPrimaryResult().getScore(), result.getPrimaryResult().getScoreError());
        }
        return 0;
    }

    public static int scrape(int users, int vmsPerUser, PrintStream out) throws Exception {
        return ScrapeBench.run(users, vmsPerUser, out);
    }

    public static int cold(int students, int runs, PrintStream out) throws Exception {
        return ColdBench.run(students, runs, out);
    }

    public static int blank(PrintStream out) throws Exception {
        return BlankBench.run(out);
    }

    public static int bulk(int users, int vmsPerUser, int virshSample, java.time.Duration resync, int idlePeriods,
                           PrintStream out) throws Exception {
        return BulkBench.run(users, vmsPerUser, virshSample, resync, idlePeriods, out);
    }
}
