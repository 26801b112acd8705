package org.ievirsh.bench;

import java.io.PrintStream;

/** Benchmarks are the scenarios {@code ie-virsh bench} runs. */
public final class Benchmarks {
    private Benchmarks() {
    }

    public static int latency(String uri, int runs, PrintStream out) throws Exception {
        return LatencyBench.run(uri, runs, out);
    }

    public static int bulk(int users, int vmsPerUser, int virshSample, java.time.Duration resync, int idlePeriods,
                           PrintStream out) throws Exception {
        return BulkBench.run(users, vmsPerUser, virshSample, resync, idlePeriods, out);
    }
}
