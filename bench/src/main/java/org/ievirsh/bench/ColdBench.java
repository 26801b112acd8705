package org.ievirsh.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.controller.ClassArchive;
import org.ievirsh.status.StatusFiles;
import org.ievirsh.template.Template;
import org.libvirt.Connect;
import org.libvirt.Domain;

/**
 * ColdBench measures the first day of a class (issue 19): 250 students' 1,000
 * VM files are there when the controller process starts, cold (a new JVM,
 * as systemd starts the service: with the class archive its unit makes, and
 * beside it without), and the figure is the time from its start until every
 * status file says {@code Running}. Beside it, in the same run, the baseline
 * started just as cold: a new JVM that defines and starts the same 1,000
 * domains in a plain libvirt-java loop and exits. Both use libvirt's test
 * driver in their own process, as {@code bench bulk} does.
 */
final class ColdBench {
    private static final String PREFIX = "ievcd";
    private static final int FIRST_UID = 210000;
    /** The JVM options of examples/ie-virsh-controller.service (its JAVA_TOOL_OPTIONS), for both processes. */
    static final List<String> SERVICE_JVM = List.of("-XX:+UseSerialGC", "-Xmx512m", "-XX:TieredStopAtLevel=1");

    private ColdBench() {
    }

    static int run(int users, int runs, PrintStream out) throws Exception {
        int vmsPerUser = 4;
        int vms = users * vmsPerUser;
        String templateXml = BenchTemplates.testDriverWithNic();
        Figures controller = new Figures();
        Figures noArchive = new Figures();
        Figures raw = new Figures();
        try (BenchWorld world = new BenchWorld(templateXml)) {
            Files.createDirectories(world.root().resolve("home"));
            new ProcessBuilder("chmod", "755", world.root().toString()).start().waitFor();
            try (Accounts accounts = Accounts.create(PREFIX, users, FIRST_UID, world.root().resolve("home"))) {
                List<String> names = Accounts.writeStudents(world, PREFIX, users, FIRST_UID, vmsPerUser);
                Path config = world.root().resolve("controller.yaml");
                Files.writeString(config, world.configText("test:///default", 1000, "resync: 30s\nconsole: {socket: "
                        + world.root().resolve("console.sock") + "}\n"));
                Path archive = world.root().resolve("controller.jsa");
                long a0 = System.nanoTime();
                ClassArchive.make(java(), ClassArchive.jarOfThisProgram(), archive);
                out.printf("cold: the class archive made as ie-virsh-controller --class-archive does, in %.1f s (%d MiB)%n",
                        (System.nanoTime() - a0) / 1e9, Files.size(archive) >> 20);
                out.printf("cold: %d students' %d VM files written; %d runs of each, interleaved, each a new JVM"
                        + " (%s, as the service)%n", users, vms, runs, String.join(" ", SERVICE_JVM));
                for (int run = 0; run < runs + 1; run++) {
                    double r = rawProcess(world, vms);
                    clearStatuses(world, users, 2 * run);
                    double n = controllerProcess(world, config, List.of(), users, names);
                    clearStatuses(world, users, 2 * run + 1);
                    double c = controllerProcess(world, config, List.of(ClassArchive.option(archive)), users, names);
                    if (run > 0) {  // the first of each warms the disk cache and the page cache of the jar
                        raw.add(r);
                        noArchive.add(n);
                        controller.add(c);
                    }
                }
            }
        }
        double ratio = raw.median() / controller.median();
        out.printf("cold  controller process as the unit starts it (with its class archive) -> %d status files Running:"
                + " median %.2f s (%.2f-%.2f)%n", vms,
                controller.median() / 1e3, controller.percentile(0) / 1e3, controller.percentile(100) / 1e3);
        out.printf("cold  the same without the class archive: median %.2f s (%.2f-%.2f)%n",
                noArchive.median() / 1e3, noArchive.percentile(0) / 1e3, noArchive.percentile(100) / 1e3);
        out.printf("cold  baseline: a new JVM defining and starting the same %d domains in a plain loop, to its exit:"
                + " median %.2f s (%.2f-%.2f)%n", vms, raw.median() / 1e3, raw.percentile(0) / 1e3,
                raw.percentile(100) / 1e3);
        out.printf("cold  controller / raw, both cold: %.2f with the class archive, %.2f without (goal >= 0.5; an"
                + " outside harness measured 0.31 before)%n", ratio, raw.median() / noArchive.median());
        return Promise.report(out, "cold: at least half a cold raw loop's throughput at " + vms + " VMs", ratio >= 0.5);
    }

    private static List<String> java() {
        List<String> java = new ArrayList<>(List.of(ClassArchive.javaOfThisProgram()));
        java.addAll(SERVICE_JVM);
        return java;
    }

    /** Milliseconds from the start of a new JVM running {@link RawLoop} to its exit. */
    private static double rawProcess(BenchWorld world, int vms) throws Exception {
        List<String> command = new ArrayList<>(java());
        command.addAll(List.of("-cp", ClassArchive.jarOfThisProgram(), RawLoop.class.getName(), Integer.toString(vms),
                world.root().resolve("images/raw.qcow2").toString()));
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(world.root().resolve("raw.log").toFile()).start();
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException("the raw loop failed: "
                    + Files.readString(world.root().resolve("raw.log")));
        }
        return (System.nanoTime() - t0) / 1e6;
    }

    /** Milliseconds from the start of a controller process to every status file saying Running. */
    private static double controllerProcess(BenchWorld world, Path config, List<String> options, int users,
                                            List<String> names) throws Exception {
        List<String> command = new ArrayList<>(java());
        command.addAll(options);
        command.addAll(List.of("-jar", ClassArchive.jarOfThisProgram(), "controller", "--config", config.toString()));
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(world.root().resolve("controller.log").toFile()).start();
        try {
            long deadline = t0 + TimeUnit.MINUTES.toNanos(10);
            int u = 0;
            int v = 0;
            // The files are looked at in order, each until it says Running: a poll reads one or a few files, so the
            // bench takes little CPU from the controller it measures.
            while (u < users) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("the controller " + (p.isAlive() ? "took over 10 minutes" : "died")
                            + ": " + Files.readString(world.root().resolve("controller.log")));
                }
                Path file = world.dir(Accounts.name(PREFIX, u)).resolve(StatusFiles.DIRECTORY)
                        .resolve(names.get(v) + ".yaml");
                if (running(file)) {
                    if (++v == names.size()) {
                        v = 0;
                        u++;
                    }
                } else {
                    Thread.sleep(5);
                }
            }
            return (System.nanoTime() - t0) / 1e6;
        } finally {
            p.destroy();  // SIGTERM: the controller stops as under systemd
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    private static boolean running(Path file) {
        try {
            if (!Files.exists(file)) {
                return false;
            }
            Optional<VmStatus> s = StatusFiles.fromYaml(file.getFileName().toString(), Files.readAllBytes(file));
            return s.isPresent() && s.get().phase() == Phase.Running;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * The next controller starts as on the first day: no status written yet.
     * The status directories are moved aside, not deleted, until the bench
     * ends: an ext4 without a journal (as here) skips the inodes freed in
     * the last minutes when it makes a file, one look at the inode table
     * each, so thousands of files deleted just before a run would make every
     * status file the controller creates cost milliseconds that no first
     * day has.
     */
    private static void clearStatuses(BenchWorld world, int users, int run) throws IOException {
        Path aside = Files.createDirectories(world.root().resolve("statuses-of-run-" + run));
        for (int u = 0; u < users; u++) {
            String user = Accounts.name(PREFIX, u);
            Path status = world.dir(user).resolve(StatusFiles.DIRECTORY);
            if (Files.isDirectory(status)) {
                Files.move(status, aside.resolve(user));
            }
        }
    }

    /** RawLoop is the baseline's whole program: render, define and start {@code args[0]} domains, then exit. */
    public static final class RawLoop {
        private RawLoop() {
        }

        public static void main(String[] args) throws Exception {
            int vms = Integer.parseInt(args[0]);
            Template template = Template.parse("bench", BenchTemplates.testDriverWithNic().getBytes());
            Connect connect = new Connect("test:///default");
            for (int i = 0; i < vms; i++) {
                String name = "rawcold-" + i;
                Domain d = connect.domainDefineXML(BenchTemplates.baselineXml(template, "rawcold", name, "r" + i,
                        args[1]));
                d.create();
                d.free();
            }
            connect.close();
        }
    }
}
