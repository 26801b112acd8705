package org.ievirsh.bench;

import java.util.logging.Level;
import org.ievirsh.cli.AddedCommand;
import org.ievirsh.cli.Logs;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** BenchCommand runs one of the benchmarks of docs/performance.md, each beside its baseline in the same run. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        header = "Measure a promise of the product beside its baseline.",
        description = {"Measure a promise of the product beside its baseline, in one run, and print one line per",
                "figure. Scenarios (run as root, on a machine where ./dev test works):",
                "  latency  real KVM: a file saved to its domain STARTED, against libvirt define+start alone",
                "  base     real libvirtd: a VM's first start on a base image (overlay and seed made as the",
                "           student), against the same VM on an image the student has",
                "  course   a course of --class-size real accounts provisioned (file and disk as each student,",
                "           VM started) from the reload that adds it, against a plain loop doing the same",
                "  bulk     test driver: N real accounts x 4 VMs to Running, against a raw libvirt loop and",
                "           virsh per command; then the idle cost (CPU, heap, RSS, full resync pass)",
                "  noisy    test driver: a new VM to Running beside a hostile neighbour, against a quiet one",
                "  addresses test driver: a DHCP lease written to its status, against a VM file saved to it",
                "  hostile  a real blade over TCP: a victim's VM started during each of another student's",
                "           attacks (console paste, flood, FORCE storm, idle connections, HTTP), against quiet",
                "  chaos    ./dev test's two blades: faults for --minutes (leader kill -9, libvirtd restarts,",
                "           frozen blades, drains, reloads, unreadable directories) while --students real",
                "           accounts edit; invariants checked throughout, then convergence after the last fault",
                "  micro    JMH: parse and check a VM file, render a domain XML, plan a VM"},
        footer = {"", "Examples:", "  sudo java -jar ie-virsh.jar bench latency --runs 10",
                "  sudo java -jar ie-virsh.jar bench base --runs 20",
                "  sudo java -jar ie-virsh.jar bench course --uri test:///default --class-size 250",
                "  sudo java -jar ie-virsh.jar bench bulk --users 10000",
                "  sudo java -jar ie-virsh.jar bench cold --runs 5",
                "  java -jar ie-virsh.jar bench scrape --users 10000",
                "  java -jar ie-virsh.jar bench noisy --runs 20",
                "  java -jar ie-virsh.jar bench addresses --runs 20",
                "  sudo java -jar ie-virsh.jar bench hostile --runs 5",
                "  sudo java -jar ie-virsh.jar bench chaos --minutes 30",
                "  java -jar ie-virsh.jar bench micro"})
public final class BenchCommand implements AddedCommand {
    @Parameters(paramLabel = "SCENARIO", description = "latency, base, course, bulk, cold, scrape, blank, noisy, addresses, takeover, drain, hostile, chaos or micro")
    String scenario;

    @Option(names = "--runs", description = "Measured repetitions (default: ${DEFAULT-VALUE}).", defaultValue = "10")
    int runs;

    @Option(names = "--uri", description = "libvirt URI of the hypervisor (default: ${DEFAULT-VALUE}).",
            defaultValue = "qemu:///system")
    String uri;

    @Option(names = "--to", description = "drain: the second blade, sharing the first one's storage (default:"
            + " ${DEFAULT-VALUE}, ./dev test's).", defaultValue = "qemu+tcp://10.203.0.3/system")
    String to;

    @Option(names = "--guest", description = "hostile: the guest OS .ci/guest.sh built (default: ${DEFAULT-VALUE}).",
            defaultValue = "/tmp/ie-virsh-guest")
    String guest;

    @Option(names = "--vms", description = "drain: running VMs moved (default: ${DEFAULT-VALUE}).", defaultValue = "20")
    int vms;

    @Option(names = "--users", description = "Accounts for bulk, students for scrape (default: ${DEFAULT-VALUE}).", defaultValue = "10000")
    int users;

    @Option(names = "--virsh-sample", description = "VMs made with virsh for bulk's baseline (default: ${DEFAULT-VALUE}).",
            defaultValue = "100")
    int virshSample;

    @Option(names = "--resync", description = "Resync interval of bulk's idle phase (default: ${DEFAULT-VALUE}, as in production).",
            defaultValue = "30s")
    String resync;

    @Option(names = "--idle-periods", description = "Resync periods measured in bulk's idle phase, after a warm-up"
            + " past the first full blade listing (default: ${DEFAULT-VALUE}: ten minutes at 30 s, a whole cycle of the"
            + " periodic work: two full blade listings and one refresh of every owner's account).",
            defaultValue = "20")
    int idlePeriods;

    @Option(names = "--class-size", description = "cold: students with 4 VM files each when the controller starts;"
            + " course: students of the course (default: ${DEFAULT-VALUE}).", defaultValue = "250")
    int classSize;

    @Option(names = "--minutes", description = "chaos: minutes of faults (default: ${DEFAULT-VALUE}).", defaultValue = "30")
    int minutes;

    @Option(names = "--seed", description = "chaos: the seed of the random choices (default: a new one, printed).")
    Long seed;

    @Option(names = "--students", description = "chaos: real accounts editing (default: ${DEFAULT-VALUE}).", defaultValue = "12")
    int students;

    @Option(names = "--blades", split = ",", description = "chaos: NAME=URI of each blade, NAME as .ci/blades.sh knows it"
            + " (default: ${DEFAULT-VALUE}).", defaultValue = "ievb2=qemu+tcp://10.203.0.2/system,ievb3=qemu+tcp://10.203.0.3/system")
    java.util.List<String> blades;

    @Option(names = "--blades-script", description = "chaos: the script that freezes, thaws and restarts blades"
            + " (default: ${DEFAULT-VALUE}).", defaultValue = ".ci/blades.sh")
    String bladesScript;

    @Override
    public Integer call() throws Exception {
        Logs.setUp(Level.WARNING);
        switch (scenario) {
            case "latency":
                return Benchmarks.latency(uri, runs, System.out);
            case "base":
                return Benchmarks.base(uri, runs, System.out);
            case "course":
                return Benchmarks.course(uri, classSize, System.out);
            case "addresses":
                return Benchmarks.addresses(runs, System.out);
            case "noisy":
                return Benchmarks.noisy(runs, System.out);
            case "drain":
                // the first of ./dev test's blades unless --uri names another
                return Benchmarks.drain(uri.equals("qemu:///system") ? "qemu+tcp://10.203.0.2/system"
                        : uri, to, vms, System.out);
            case "hostile":
                // the first of ./dev test's blades, over TCP, unless --uri names another
                return Benchmarks.hostile(uri.equals("qemu:///system")
                        ? "qemu+tcp://10.203.0.2/system" : uri, java.nio.file.Path.of(guest), runs, System.out);
            case "takeover":
                return Benchmarks.takeover(runs, System.out);
            case "chaos":
                return Benchmarks.chaos(minutes, seed != null ? seed : new java.util.Random().nextLong() >>> 1,
                        students, blades, java.nio.file.Path.of(bladesScript), System.out);
            case "micro":
                return Benchmarks.micro(System.out);
            case "cold":
                return Benchmarks.cold(classSize, Math.min(runs, 5), System.out);
            case "blank":
                return Benchmarks.blank(System.out);
            case "scrape":
                return Benchmarks.scrape(users, 4, System.out);
            case "bulk":
                if (idlePeriods < 1) {
                    System.err.println("ie-virsh: bench bulk needs --idle-periods of at least 1");
                    return 2;
                }
                return Benchmarks.bulk(users, 4, virshSample,
                        org.ievirsh.api.v1.Durations.parse(resync), idlePeriods, System.out);
            default:
                System.err.println("ie-virsh: unknown scenario " + scenario);
                return 2;
        }
    }
}
