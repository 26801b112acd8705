package org.ievirsh.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.support.Commands;
import org.ievirsh.support.Statuses;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * SnapshotCrashIT kills the controller ({@code kill -9}) while a student's
 * snapshot is being taken, a running KVM VM's through libvirt and a stopped
 * one's by {@code qemu-img}, at a random moment (the seed printed), and
 * checks after each kill: the snapshot either exists or not, libvirt keeps
 * no record of one the image lacks, the VM still runs, a controller started
 * again answers for it; at the end the image is whole ({@code qemu-img
 * check}) and a snapshot made across the kills reverts.
 */
@EnabledIfSystemProperty(named = "ievirsh.e2e", matches = "true")
class SnapshotCrashIT {
    private static final String USER = "ievsnapk";
    private static final Host HOST = new Host();
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    static Path tmp;
    static Path base;
    static Path config;
    static int port;

    @BeforeAll
    static void setUp() throws Exception {
        base = Host.openToAll(Files.createDirectories(tmp.resolve("dept")));
        HOST.user(USER, 41801, Files.createDirectories(base.resolve("home")));
        Host.templates(base.resolve("templates"));
        Host.image(base.resolve("images").resolve(USER), USER, "web.qcow2");
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        config = base.resolve("controller.yaml");
        Files.writeString(config, "users:\n  directories: " + base.resolve("home") + "/*/ie-virsh\n  minUid: 1000\n"
                + "images:\n  inspection: off\n  root: " + base.resolve("images") + "\n"
                + "templates: " + base.resolve("templates") + "\n"
                + "blades:\n  - {name: b1, uri: \"" + Host.SYSTEM + "\", capacity: {vcpus: 8, memory: 2GiB}}\n"
                + "console: {socket: " + base.resolve("console.sock") + "}\nsnapshots: {maxPerVm: 20}\n"
                + "http: {listen: \"127.0.0.1:" + port + "\"}\nresync: 5s\nstopGracePeriod: 5s\n");
        Commands.ok("chmod", "a+r", config.toString());
    }

    @AfterAll
    static void tearDown() {
        Commands.run(List.of("virsh", "-q", "-c", Host.SYSTEM, "destroy", USER + "-web"));
        Commands.run(List.of("virsh", "-q", "-c", Host.SYSTEM, "undefine", "--snapshots-metadata", USER + "-web"));
        HOST.deleteUsers();
    }

    static Path dir() {
        return base.resolve("home").resolve(USER).resolve("ie-virsh");
    }

    static Process controller() throws Exception {
        Process process = new ProcessBuilder("java", "-jar", System.getProperty("ievirsh.jar"), "controller",
                "--config", config.toString()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(Path.of("target", "SnapshotCrashIT.log").toFile()))
                .start();
        HttpClient http = HttpClient.newHttpClient();
        await().atMost(WAIT).ignoreExceptions().until(() -> !process.isAlive() || http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/readyz")).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode() == 200);
        assertTrue(process.isAlive(), "the controller started");
        return process;
    }

    static List<String> cli(String... args) {
        List<String> command = new ArrayList<>(List.of("runuser", "-u", USER, "--", "java", "-jar",
                System.getProperty("ievirsh.jar"), args[0], "--config", config.toString()));
        command.addAll(Arrays.asList(args).subList(1, args.length));
        return command;
    }

    /** The labels {@code ie-virsh snapshots web} lists. */
    static Set<String> listed() {
        Commands.Result r = Commands.run(cli("snapshots", "web"));
        assertEquals(0, r.code(), r.output());
        Set<String> labels = new TreeSet<>();
        r.output().lines().skip(1).forEach(line -> labels.add(line.split("\\s+")[0]));
        return labels;
    }

    /** The snapshots libvirt keeps a record of. */
    static Set<String> recorded() {
        return new TreeSet<>(Commands.ok("virsh", "-q", "-c", Host.SYSTEM, "snapshot-list", "--name", USER + "-web")
                .lines().map(String::strip).filter(l -> !l.isEmpty()).toList());
    }

    @Test
    void aControllerKilledMidSnapshotLeavesItWholeOrAbsentAndTheImageConsistent() throws Exception {
        long seed = Long.getLong("ievirsh.seed", System.nanoTime());
        Random random = new Random(seed);
        System.out.println("SnapshotCrashIT seed " + seed + " (-Dievirsh.seed replays it)");
        Process controller = controller();
        Host.write(dir().resolve("web.yaml"), USER, "apiVersion: ie-virsh/v1\nkind: VirtualMachine\n"
                + "spec:\n  template: small\n  image: web.qcow2\n  memory: 256MiB\n");
        Statuses.awaitPhase(dir(), "web", Phase.Running, WAIT);
        List<String> outcomes = new ArrayList<>();
        for (int round = 0; round < 6; round++) {
            boolean running = round < 4;
            if (round == 4) {
                assertEquals(0, Commands.run(cli("destroy", "web", "--wait")).code());
            }
            String label = "k" + round;
            Process asking = new ProcessBuilder(cli("snapshot", "web", label)).redirectErrorStream(true).start();
            // The CLI's JVM takes about a second to send its request; the kill falls before, during or after.
            long delay = 600 + random.nextInt(1200);
            Thread.sleep(delay);
            controller.toHandle().destroyForcibly();
            controller.waitFor();
            asking.waitFor();
            controller = controller();
            Set<String> listed = listed();
            Set<String> recorded = recorded();
            assertTrue(listed.containsAll(recorded), "libvirt records no snapshot the image lacks: " + recorded
                    + " against " + listed);
            if (running) {
                assertEquals("running", Host.state(USER + "-web"), "the VM runs on");
            }
            outcomes.add(label + (running ? " (running)" : " (stopped)") + " killed after " + delay + " ms: "
                    + (listed.contains(label) ? "taken" : "not taken"));
        }
        System.out.println("SnapshotCrashIT: " + String.join("; ", outcomes));
        // The image is whole, and what it holds agrees with the list; a snapshot made across the kills reverts.
        Commands.Result check = Commands.run(List.of("runuser", "-u", USER, "--", "qemu-img", "check",
                base.resolve("images").resolve(USER).resolve("web.qcow2").toString()));
        assertEquals(0, check.code(), check.output());
        assertTrue(check.output().contains("No errors were found"), check.output());
        Set<String> listed = listed();
        if (!listed.isEmpty()) {
            Commands.Result revert = Commands.run(cli("revert", "web", listed.iterator().next()));
            assertEquals(0, revert.code(), revert.output());
        }
        controller.destroy();
        controller.waitFor();
    }
}
