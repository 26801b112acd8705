package org.ievirsh.bench;

import java.io.PrintStream;

/** Benchmarks are the scenarios {@code ie-virsh bench} runs. */
public final class Benchmarks {
    private Benchmarks() {
    }

    public static int latency(String uri, int runs, PrintStream out) throws Exception {
        return LatencyBench.run(uri, runs, out);
    }
}
