package org.ievirsh.cli;

import java.util.concurrent.Callable;
import java.util.logging.Level;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** BenchCommand runs one of the benchmarks of PRODUCT.md §8, each beside its baseline in the same run. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measure a promise of the product beside its baseline, in one run, and print one line per",
                "figure. Scenarios: latency (real KVM: file saved to domain started, vs libvirt alone)."},
        footer = {"", "Example:", "  sudo java -jar ie-virsh.jar bench latency --runs 10"})
final class BenchCommand implements Callable<Integer> {
    @Parameters(paramLabel = "SCENARIO", description = "latency")
    String scenario;

    @Option(names = "--runs", description = "Measured repetitions (default: ${DEFAULT-VALUE}).", defaultValue = "10")
    int runs;

    @Option(names = "--uri", description = "libvirt URI of the hypervisor (default: ${DEFAULT-VALUE}).",
            defaultValue = "qemu:///system")
    String uri;

    @Override
    public Integer call() throws Exception {
        Logs.setUp(Level.WARNING);
        switch (scenario) {
            case "latency":
                return org.ievirsh.bench.Benchmarks.latency(uri, runs, System.out);
            default:
                System.err.println("ie-virsh: unknown scenario " + scenario);
                return 2;
        }
    }
}
