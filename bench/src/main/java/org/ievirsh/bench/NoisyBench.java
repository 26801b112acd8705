package org.ievirsh.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.controller.Controller;
import org.ievirsh.demo.DemoOwners;
import org.ievirsh.libvirt.EventLoop;
import org.ievirsh.libvirt.LibvirtBladeLink;
import org.ievirsh.metrics.Metrics;

/**
 * NoisyBench measures the noisy-neighbour promise of docs/performance.md: the time for one
 * student's new VM to reach Running while another student's directory holds
 * a YAML bomb, a 20 MiB file and 1,000 junk files that keep changing, against
 * the same with a quiet neighbour, on libvirt's test driver.
 */
final class NoisyBench {
    private NoisyBench() {
    }

    static int run(int runs, PrintStream out) throws Exception {
        EventLoop.ensureStarted();
        try (BenchWorld world = new BenchWorld(BenchTemplates.testDriver())) {
            List<String> vms = new java.util.ArrayList<>();
            for (int i = 0; i < 2 * runs + 2; i++) {
                vms.add("vm" + i);
            }
            world.student("quiet", vms);
            Files.createDirectories(world.dir("noisy").getParent());
            Path node = Files.writeString(world.root().resolve("node.xml"), "<node><cpu><nodes>1</nodes><sockets>1"
                    + "</sockets><cores>64</cores><threads>1</threads><active>64</active><mhz>2000</mhz><model>n"
                    + "</model></cpu><memory>134217728</memory></node>");
            Controller controller = new Controller(world.config("test://" + node, 0, "resync: 30s\n"),
                    new DemoOwners(List.of("quiet", "noisy")), b -> new LibvirtBladeLink(b.name(), b.uri()),
                    new Metrics(new SimpleMeterRegistry()), Clock.systemUTC());
            controller.start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!controller.ready() && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                // The neighbour's hostile directory is made once beside the tree and moved in for each noisy run,
                // out for each quiet one; the runs alternate (quiet, noisy, noisy, quiet, ...) so that warm-up and
                // drift fall on both sides alike.
                Path stash = world.root().resolve("noise");
                Files.createDirectories(stash);
                makeNoise(stash);
                int next = 0;
                time(world, controller, "vm" + next++);
                Figures quiet = new Figures();
                Figures loud = new Figures();
                for (int i = 0; i < 2 * runs; i++) {
                    boolean noisyRun = (i % 4 == 1) || (i % 4 == 2);
                    if (!noisyRun) {
                        quiet.add(time(world, controller, "vm" + next++));
                        continue;
                    }
                    Files.move(stash, world.dir("noisy"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                    AtomicBoolean noisy = new AtomicBoolean(true);
                    Thread churn = new Thread(() -> churn(world.dir("noisy"), noisy), "noisy-neighbour");
                    churn.start();
                    try {
                        Thread.sleep(200);  // the neighbour's flood is under way when the quiet student saves
                        loud.add(time(world, controller, "vm" + next++));
                    } finally {
                        noisy.set(false);
                        churn.join();
                        Files.move(world.dir("noisy"), stash, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                    }
                }
                out.printf("noisy  new VM to Running beside a quiet neighbour: median %.1f ms (%d runs)%n",
                        quiet.median(), quiet.count());
                out.printf("noisy  beside a YAML bomb, a 20 MiB file and 1,000 junk files that keep changing:"
                        + " median %.1f ms (%d runs, interleaved)%n", loud.median(), loud.count());
                out.printf("noisy  ratio: %.2f (goal < 1.5)%n", loud.median() / quiet.median());
                return Promise.report(out, "noisy: a hostile neighbour does not slow another student's reconcile"
                        + " (ratio < 1.5)", loud.median() / quiet.median() < 1.5);
            } finally {
                controller.close();
            }
        }
    }

    private static double time(BenchWorld world, Controller controller, String vm) throws Exception {
        long t0 = System.nanoTime();
        world.save("quiet", vm, "Always");
        long deadline = t0 + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            VmStatus s = controller.statuses().ofUser("quiet").get(vm);
            if (s != null && s.phase() == Phase.Running) {
                return (System.nanoTime() - t0) / 1e6;
            }
            Thread.sleep(1);
        }
        throw new IllegalStateException(vm + " did not run within 120 s");
    }

    private static void makeNoise(Path dir) throws Exception {
        StringBuilder bomb = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (char c = 'b'; c <= 'j'; c++) {
            bomb.append(c).append(": &").append(c).append(" [");
            for (int i = 0; i < 8; i++) {
                bomb.append(i == 0 ? "" : ",").append('*').append((char) (c - 1));
            }
            bomb.append("]\n");
        }
        Files.writeString(dir.resolve("bomb.yaml"), bomb);
        Files.write(dir.resolve("huge.yaml"), new byte[20 << 20]);
        Random random = new Random(7);
        for (int i = 0; i < 1000; i++) {
            byte[] junk = new byte[200 + random.nextInt(2000)];
            random.nextBytes(junk);
            Files.write(dir.resolve(String.format("junk%04d.yaml", i)), junk);
        }
    }

    private static void churn(Path dir, AtomicBoolean on) {
        Random random = new Random(11);
        while (on.get()) {
            try {
                Files.writeString(dir.resolve(String.format("junk%04d.yaml", random.nextInt(1000))),
                        "spec: [" + random.nextInt() + "\n", StandardCharsets.UTF_8);
                Thread.sleep(20);
            } catch (Exception e) {
                return;
            }
        }
    }
}
