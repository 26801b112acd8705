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
import org.ievirsh.status.StatusFiles;
import org.ievirsh.template.Template;
import org.libvirt.Connect;
import org.libvirt.Domain;

/**
 * ColdBench measures the first day of a class (issue 19): 250 students' 1,000
 * VM files are there when the controller process starts, cold (a new JVM,
 * as systemd starts the service), and the figure is the time from its start
 * until every status file says {@code Running}. Beside it, in the same run,
 * the baseline started just as cold: a new JVM that defines and starts the
 * same 1,000 domains in a plain libvirt-java loop and exits. Both use
 * libvirt's test driver in their own process, as {@code bench bulk} does.
 */
final class ColdBench {
    private static final String PREFIX = "ievcd";
    private static final int FIRST_UID = 210000;

    private ColdBench() {
    }

    static int run(int users, int runs, PrintStream out) throws Exception {
        int vmsPerUser = 4;
        int vms = users * vmsPerUser;
        String templateXml = BenchTemplates.testDriverWithNic();
        Figures controller = new Figures();
        Figures raw = new Figures();
        try (BenchWorld world = new BenchWorld(templateXml)) {
            Files.createDirectories(world.root().resolve("home"));
            new ProcessBuilder("chmod", "755", world.root().toString()).start().waitFor();
            try (Accounts accounts = Accounts.create(PREFIX, users, FIRST_UID, world.root().resolve("home"))) {
                List<String> names = Accounts.writeStudents(world, PREFIX, users, FIRST_UID, vmsPerUser);
                Path config = world.root().resolve("controller.yaml");
                Files.writeString(config, world.configText("test:///default", 1000, "resync: 30s\nconsole: {socket: "
                        + world.root().resolve("console.sock") + "}\n"));
                out.printf("cold: %d students' %d VM files written; %d runs of each, interleaved, each a new JVM"
                        + " (-XX:+UseSerialGC -Xmx512m, as the service)%n", users, vms, runs);
                for (int run = 0; run < runs + 1; run++) {
                    double r = rawProcess(world, vms);
                    double c = controllerProcess(world, config, users, names);
                    if (run > 0) {  // the first of each warms the disk cache and the page cache of the jar
                        raw.add(r);
                        controller.add(c);
                    }
                    clearStatuses(world, users);
                }
            }
        }
        double ratio = raw.median() / controller.median();
        out.printf("cold  controller process started -> %d status files Running: median %.2f s (%.2f-%.2f)%n", vms,
                controller.median() / 1e3, controller.percentile(0) / 1e3, controller.percentile(100) / 1e3);
        out.printf("cold  baseline: a new JVM defining and starting the same %d domains in a plain loop, to its exit:"
                + " median %.2f s (%.2f-%.2f)%n", vms, raw.median() / 1e3, raw.percentile(0) / 1e3,
                raw.percentile(100) / 1e3);
        out.printf("cold  controller / raw, both cold: %.2f (goal >= 0.5; an outside harness measured 0.31 before)%n",
                ratio);
        return Promise.report(out, "cold: at least half a cold raw loop's throughput at " + vms + " VMs", ratio >= 0.5);
    }

    private static List<String> java() {
        return List.of(ProcessHandle.current().info().command().orElse("java"), "-XX:+UseSerialGC", "-Xmx512m");
    }

    /** Milliseconds from the start of a new JVM running {@link RawLoop} to its exit. */
    private static double rawProcess(BenchWorld world, int vms) throws Exception {
        List<String> command = new ArrayList<>(java());
        command.addAll(List.of("-cp", BenchWorld.jarOfThisProgram(), RawLoop.class.getName(), Integer.toString(vms),
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
    private static double controllerProcess(BenchWorld world, Path config, int users, List<String> names)
            throws Exception {
        List<String> command = new ArrayList<>(java());
        command.addAll(List.of("-jar", BenchWorld.jarOfThisProgram(), "controller", "--config", config.toString()));
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
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
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

    /** The next controller starts as on the first day: no status written yet. */
    private static void clearStatuses(BenchWorld world, int users) throws IOException {
        for (int u = 0; u < users; u++) {
            Path status = world.dir(Accounts.name(PREFIX, u)).resolve(StatusFiles.DIRECTORY);
            if (Files.isDirectory(status)) {
                try (var files = Files.list(status)) {
                    for (Path f : files.toList()) {
                        Files.delete(f);
                    }
                }
                Files.delete(status);
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
