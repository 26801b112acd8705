package org.ievirsh.bench;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.controller.Controller;
import org.ievirsh.libvirt.EventLoop;
import org.ievirsh.libvirt.LibvirtBladeLink;
import org.ievirsh.metrics.Exposition;
import org.ievirsh.metrics.Metrics;
import org.ievirsh.posix.PosixException;
import org.ievirsh.posix.SafeDir;
import org.ievirsh.status.StatusFiles;
import org.ievirsh.template.DomainIdentity;
import org.ievirsh.template.Template;
import org.ievirsh.users.NssOwners;
import org.libvirt.Connect;
import org.libvirt.Domain;

/**
 * BulkBench measures the bulk and idle promises of docs/performance.md on libvirt's
 * test driver in this process: N real accounts with 4 VMs each, made before
 * the controller starts, until all are Running in their status files,
 * against a plain loop of libvirt-java define+start for the same XMLs and
 * against one virsh process per command (through libvirtd's test driver);
 * then, converged, the idle cost over several resync periods.
 */
final class BulkBench {
    private static final String PREFIX = "ievbk";
    /** FIRST_UID starts the accounts' uids above every system range (nobody is 65534). */
    private static final int FIRST_UID = 200000;

    private BulkBench() {
    }

    static int run(int users, int vmsPerUser, int virshSample, Duration resync, int idlePeriods, PrintStream out)
            throws Exception {
        EventLoop.ensureStarted();
        // The figures depend on the JVM's settings: the service runs with those of ie-virsh-controller.service.
        out.printf("bulk: Java %s, %s, max heap %d MiB, %d CPUs, options %s (the service's: %s)%n", Runtime.version(),
                String.join(" + ", ManagementFactory.getGarbageCollectorMXBeans().stream()
                        .map(java.lang.management.GarbageCollectorMXBean::getName).toList()),
                Runtime.getRuntime().maxMemory() >> 20, Runtime.getRuntime().availableProcessors(),
                ManagementFactory.getRuntimeMXBean().getInputArguments(), String.join(" ", ColdBench.SERVICE_JVM));
        // Addresses on (docs/performance.md): a NIC and the guest agent's channel in every VM, a watched lease file.
        String templateXml = BenchTemplates.testDriverWithNic();
        Template template = Template.parse("bench", templateXml.getBytes());
        int vms = users * vmsPerUser;
        try (BenchWorld world = new BenchWorld(templateXml)) {
            Files.createDirectories(world.root().resolve("home"));
            Runtime.getRuntime().exec(new String[] {"chmod", "755", world.root().toString()}).waitFor();
            long t0 = System.nanoTime();
            try (Accounts accounts = Accounts.create(PREFIX, users, FIRST_UID, world.root().resolve("home"))) {
                out.printf("bulk: %d accounts made with newusers in %.1f s%n", users, (System.nanoTime() - t0) / 1e9);
                List<String> names = Accounts.writeStudents(world, PREFIX, users, FIRST_UID, vmsPerUser);
                Path leases = writeLeases(world, users, names, template.nics());
                out.printf("bulk: %d VM files and images written, and a dnsmasq lease file with an address for each%n",
                        vms);

                fileSystemProbe(world.root().resolve("probe"), out);
                double raw = rawLoop(template, world, vms, out);
                double virsh = virshSample(template, templateXml, world, virshSample, out);
                Runtime.getRuntime().gc();

                // The registry the service has: Prometheus, with the per-VM series, scraped only at the end.
                Exposition metrics = new Exposition(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
                Controller controller = new Controller(world.config("test:///default", 1000,
                        "resync: " + resync.toSeconds() + "s\naddresses:\n  leases: [\"" + leases + "\"]\n"),
                        new NssOwners(),
                        b -> new LibvirtBladeLink(b.name(), b.uri()), new Metrics(metrics), Clock.systemUTC());
                long start = System.nanoTime();
                controller.start();
                awaitRunning(controller, vms, Duration.ofMinutes(30), 250);
                double seconds = (System.nanoTime() - start) / 1e9;
                // Read now: checking the status files takes seconds, and a resync pass may come meanwhile.
                io.micrometer.core.instrument.Timer reconciles = controller.metrics().registry()
                        .get("ievirsh.reconcile.duration").timer();
                long reconcileCount = reconciles.count();
                double reconcileMillis = reconciles.totalTime(TimeUnit.MILLISECONDS);
                int running = countRunningFiles(world, users, names);
                double rate = vms / seconds;
                out.printf("bulk  controller: %d VMs Running in their status files in %.1f s: %.0f VMs/s"
                        + " (%d status files checked)%n", vms, seconds, rate, running);
                out.printf("bulk  (reconciles until then: %d, %.0f ms of work in all, mean %.2f ms)%n",
                        reconcileCount, reconcileMillis, reconcileMillis / reconcileCount);
                out.printf("bulk  controller / raw libvirt loop, both in-process (test:///default): %.2f"
                        + " (contract >= 0.5)%n", rate / raw);
                int throughput = Promise.report(out, "bulk: at least half a raw libvirt loop's throughput",
                        rate / raw >= 0.5);
                int againstVirsh = Promise.report(out, "bulk: at least 10 times one virsh process per command,"
                        + " both through libvirtd", virsh >= 10);
                int idle = IdleCost.idle(controller, resync, idlePeriods, out);
                out.printf("idle  addresses: %d of %d status files show the address of their VM's lease%n",
                        countWithAddress(world, users, names), vms);
                IdleCost.scrapes(metrics, out);
                controller.close();
                return Promise.all(throughput, againstVirsh, idle);
            } finally {
                undefineAll(world);
            }
        }
    }

    /**
     * What one status file costs the file system now: a small file written
     * the controller's way (create, own, write, rename) in 1,000 directories.
     * The raw loop writes no file, so this cost is all on the controller's
     * side of the ratio; on ext4 without a journal (this machine's root) it
     * grows several times for minutes after many files were deleted (the
     * last run's world, a build), which is worth knowing beside the figures.
     * The files stay until the world goes: deleting them would slow the run.
     */
    private static void fileSystemProbe(Path probe, PrintStream out) throws IOException, PosixException {
        Files.createDirectories(probe);
        byte[] content = new byte[600];
        int dirs = 1000;
        long t0 = System.nanoTime();
        for (int i = 0; i < dirs; i++) {
            Path dir = Files.createDirectory(probe.resolve("d" + i));
            try (SafeDir safe = SafeDir.openTrusted(dir)) {
                safe.writeAtomically("web.yaml", content, 0, 0, 0600);
                safe.writeAtomically("web.xml", content, 0, 0, 0600);
            }
        }
        out.printf("bulk: the file system now: a directory and two status-sized files written by rename, %.0f us"
                + " (ext4 without a journal is several times slower for minutes after many deletions)%n",
                (System.nanoTime() - t0) / 1e3 / dirs);
    }

    /** The baseline: define and start the same number of domains from rendered XMLs, in a plain loop. */
    private static double rawLoop(Template template, BenchWorld world, int vms, PrintStream out) throws Exception {
        List<String> xmls = new ArrayList<>(vms);
        for (int i = 0; i < vms; i++) {
            String name = "rawbench-" + i;
            xmls.add(BenchTemplates.baselineXml(template, "rawbench", name, "r" + i,
                    world.root().resolve("images/raw.qcow2").toString()));
        }
        Connect connect = new Connect("test:///default");
        long t0 = System.nanoTime();
        for (String xml : xmls) {
            Domain d = connect.domainDefineXML(xml);
            d.create();
            d.free();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        for (Domain d : connect.listAllDomains(0)) {
            if (d.getName().startsWith("rawbench-")) {
                d.destroy();
                d.undefine();
            }
            d.free();
        }
        connect.close();
        double rate = vms / seconds;
        out.printf("bulk  raw libvirt-java loop: %d define+start in %.1f s: %.0f VMs/s%n", vms, seconds, rate);
        return rate;
    }

    /**
     * One virsh process per command (define, then start) against the controller doing the same number of VMs,
     * both through libvirtd's test driver (test+unix:///default, with its RPC): virsh cannot keep the in-process
     * driver's state from one process to the next. Returns the controller's throughput over virsh's.
     */
    private static double virshSample(Template template, String templateXml, BenchWorld world, int sample,
                                      PrintStream out)
            throws Exception {
        String uri = "test+unix:///default";
        Path xml = world.root().resolve("virsh.xml");
        // libvirtd keeps the test driver's state only while a client holds it open: hold it for the sample.
        Connect holder = new Connect(uri);
        long t0 = System.nanoTime();
        for (int i = 0; i < sample; i++) {
            String name = "virshbench-" + i;
            Files.writeString(xml, BenchTemplates.baselineXml(template, "virshbench", name, "v" + i,
                    world.root().resolve("images/raw.qcow2").toString()));
            virsh(uri, "define", xml.toString());
            virsh(uri, "start", name);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        for (int i = 0; i < sample; i++) {
            virsh(uri, "destroy", "virshbench-" + i);
            virsh(uri, "undefine", "virshbench-" + i);
        }
        double rate = sample / seconds;
        out.printf("bulk  one virsh process per command (%s): %d define+start in %.1f s: %.1f VMs/s%n", uri, sample,
                seconds, rate);
        // The controller's throughput is taken over four times as many VMs: its start (a connection, a listing, a
        // first pass) is then a smaller part of it, as in a rush; virsh's rate is the same at any count.
        int controllerVms = sample * 4;
        double controlled;
        try {
            controlled = controllerSample(uri, templateXml, controllerVms);
        } finally {
            holder.close();
        }
        out.printf("bulk  the controller on the same path (%s), started for it: %d VMs Running in their status files:"
                + " %.1f VMs/s%n", uri, controllerVms, controlled);
        out.printf("bulk  controller / one virsh process per command, both through libvirtd: %.1fx (contract 10x)%n",
                controlled / rate);
        return controlled / rate;
    }

    /** The controller making {@code sample} VMs (4 per student) through {@code uri}: VMs per second to Running. */
    private static double controllerSample(String uri, String templateXml, int sample) throws Exception {
        List<String> users = new ArrayList<>();
        for (int u = 0; u < (sample + 3) / 4; u++) {
            users.add("vs" + u);
        }
        try (BenchWorld world = new BenchWorld(templateXml)) {
            int vms = 0;
            for (String user : users) {
                List<String> names = new ArrayList<>();
                for (int v = 0; v < 4 && vms < sample; v++, vms++) {
                    names.add("vm" + v);
                }
                world.student(user, names);
                for (String vm : names) {
                    world.save(user, vm, "Always");
                }
            }
            Controller controller = new Controller(world.config(uri, 0, "resync: 30s\n"), new org.ievirsh.demo.DemoOwners(users),
                    b -> new LibvirtBladeLink(b.name(), b.uri()), new Metrics(new io.micrometer.core.instrument.simple
                    .SimpleMeterRegistry()), Clock.systemUTC());
            long start = System.nanoTime();
            controller.start();
            try {
                awaitRunning(controller, sample, Duration.ofMinutes(10), 20);
                return sample / ((System.nanoTime() - start) / 1e9);
            } finally {
                controller.close();
                Connect connect = new Connect(uri);
                for (Domain d : connect.listAllDomains(0)) {
                    if (d.getName().startsWith("vs")) {
                        if (d.isActive() == 1) {
                            d.destroy();
                        }
                        d.undefine();
                    }
                    d.free();
                }
                connect.close();
            }
        }
    }

    private static void virsh(String uri, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("virsh", "-q", "-c", uri));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (!p.waitFor(1, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IOException("virsh " + String.join(" ", args) + " failed (is libvirtd running?)");
        }
    }

    private static void awaitRunning(Controller controller, int vms, Duration limit, long pollMillis)
            throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            if (controller.statuses().count(Phase.Running) >= vms) {
                return;
            }
            // Counting 40,000 statuses every 50 ms took 4% of this machine from the controller it measures; every
            // 250 ms it takes under 1%, and the time it adds (at most 0.25 s) counts against the controller.
            Thread.sleep(pollMillis);
        }
        throw new IllegalStateException("not all VMs ran within " + limit);
    }

    /** A dnsmasq lease file (far from expiring) with an address for each NIC of each VM, by the MAC it is given. */
    private static Path writeLeases(BenchWorld world, int users, List<String> names, int nics) throws IOException {
        StringBuilder text = new StringBuilder();
        long expiry = System.currentTimeMillis() / 1000 + 365L * 24 * 3600;
        int n = 0;
        for (int u = 0; u < users; u++) {
            String user = Accounts.name(PREFIX, u);
            for (String vm : names) {
                for (String mac : DomainIdentity.macsFor(user, FIRST_UID + u, vm, nics, m -> false)) {
                    n++;
                    text.append(expiry).append(' ').append(mac).append(" 10.").append(n >> 16 & 255).append('.')
                            .append(n >> 8 & 255).append('.').append(n & 255).append(' ').append(vm).append(" *\n");
                }
            }
        }
        Path file = world.root().resolve("dnsmasq.leases");
        Files.writeString(file, text);
        return file;
    }

    private static int countRunningFiles(BenchWorld world, int users, List<String> names) throws IOException {
        int running = countStatuses(world, users, names, s -> s.phase() == Phase.Running);
        if (running != users * names.size()) {
            throw new IllegalStateException("only " + running + " status files say Running");
        }
        return running;
    }

    private static int countWithAddress(BenchWorld world, int users, List<String> names) throws IOException {
        return countStatuses(world, users, names, s -> s.ip() != null);
    }

    private static int countStatuses(BenchWorld world, int users, List<String> names,
                                     java.util.function.Predicate<VmStatus> which) throws IOException {
        int count = 0;
        for (int u = 0; u < users; u++) {
            Path status = world.dir(Accounts.name(PREFIX, u)).resolve(StatusFiles.DIRECTORY);
            for (String vm : names) {
                Optional<VmStatus> s = StatusFiles.fromYaml(vm, Files.readAllBytes(status.resolve(vm + ".yaml")));
                if (s.isPresent() && which.test(s.get())) {
                    count++;
                }
            }
        }
        return count;
    }

    private static void undefineAll(BenchWorld world) {
        BenchWorld.removeTestDomains(PREFIX);
    }
}
