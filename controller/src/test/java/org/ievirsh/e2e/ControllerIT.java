package org.ievirsh.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.controller.Controller;
import org.ievirsh.libvirt.LibvirtBladeLink;
import org.ievirsh.metrics.Metrics;
import org.ievirsh.support.Commands;
import org.ievirsh.support.Statuses;
import org.ievirsh.users.NssOwners;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * ControllerIT runs the controller against the real libvirtd on this machine
 * (KVM), for real POSIX users made by the test, and checks what a student
 * and an admin would see.
 */
@EnabledIfSystemProperty(named = "ievirsh.e2e", matches = "true")
class ControllerIT {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String ALICE = "ievalice";
    private static final String BOB = "ievbob";
    private static final Host HOST = new Host();

    @TempDir
    static Path tmp;
    Controller controller;
    PrometheusMeterRegistry registry;

    @BeforeAll
    static void users() throws IOException {
        Host.openToAll(tmp);
        Path homes = Files.createDirectories(tmp.resolve("home"));
        HOST.user(ALICE, 41001, homes);
        HOST.user(BOB, 41002, homes);
        Host.templates(tmp.resolve("templates"));
    }

    @AfterAll
    static void removeUsers() {
        HOST.deleteUsers();
    }

    @BeforeEach
    void clean() {
        Host.removeDomains("iev");
    }

    @AfterEach
    void stop() throws IOException {
        if (controller != null) {
            controller.close();
        }
        Host.removeDomains("iev");
        for (String user : List.of(ALICE, BOB)) {
            // Each test starts from a fresh image of the student's: libvirt's DAC driver can leave one it labelled
            // root's behind (seen after the libvirtd restart test), and a root-owned image is rightly refused.
            Commands.ok("rm", "-rf", tmp.resolve("images").resolve(user).toString());
            Path dir = dir(user);
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Commands.ok("rm", "-rf", f.toString());
                }
            }
        }
    }

    static ControllerConfig config(String extra) {
        String yaml = "users:\n  directories: " + tmp.resolve("home") + "/*/ie-virsh\n  minUid: 1000\n"
                + "images:\n  inspection: off\n  root: " + tmp.resolve("images") + "\n"
                + "templates: " + tmp.resolve("templates") + "\n"
                + "blades:\n  - {name: local, uri: \"qemu:///system\", capacity: {vcpus: 64, memory: 256GiB}}\n"
                + "http: {listen: \"127.0.0.1:0\"}\nresync: 5s\nstopGracePeriod: 2s\n" + extra;
        return ControllerConfig.parse("e2e.yaml", yaml.getBytes(StandardCharsets.UTF_8)).orThrow();
    }

    private void start() {
        start("");
    }

    private void start(String extra) {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        controller = new Controller(config(extra), new NssOwners(),
                b -> new LibvirtBladeLink(b.name(), b.uri()), new Metrics(registry), Clock.systemUTC());
        controller.start();
    }

    /** Waits for {@code count} more full passes of the controller: what it was to do by then, it did. */
    private void passes(int count) {
        int target = controller.passesCompleted() + count;
        await().atMost(WAIT).until(() -> controller.passesCompleted() >= target);
    }

    static Path dir(String user) {
        return tmp.resolve("home").resolve(user).resolve("ie-virsh");
    }

    static Path vm(String user, String name, String strategy) throws IOException {
        Path image = tmp.resolve("images").resolve(user).resolve(name + ".qcow2");
        if (!Files.exists(image)) {
            Host.image(tmp.resolve("images").resolve(user), user, name + ".qcow2");
        }
        return Host.write(dir(user).resolve(name + ".yaml"), user, "apiVersion: ie-virsh/v1\nkind: VirtualMachine\n"
                + "spec:\n  template: small\n  image: " + name + ".qcow2\n  runStrategy: " + strategy
                + "\n  memory: 256MiB\n");
    }

    static Optional<VmStatus> status(String user, String vm) {
        return Statuses.read(dir(user), vm);
    }

    static VmStatus awaitPhase(String user, String vm, Phase phase) {
        return Statuses.awaitPhase(dir(user), vm, phase, WAIT);
    }

    @Test
    void aFileBecomesARunningKvmDomainOwnedAndReportedForTheStudent() throws Exception {
        start();
        vm(ALICE, "web", "Always");
        VmStatus status = awaitPhase(ALICE, "web", Phase.Running);
        assertEquals("running", Host.state(ALICE + "-web"));
        assertEquals(new VmStatus.Owner(ALICE, 41001), status.owner());
        assertEquals(41001, Files.getAttribute(dir(ALICE).resolve(".status/web.yaml"), "unix:uid"));
        assertEquals(41001, Files.getAttribute(dir(ALICE).resolve(".status"), "unix:uid"));
        String dumped = Files.readString(dir(ALICE).resolve(".status/web.xml"));
        assertTrue(dumped.contains("<name>" + ALICE + "-web</name>"), dumped);
        assertTrue(Host.virsh("dumpxml", ALICE + "-web").contains("urn:ie-virsh:domain:v1"));
    }

    @Test
    void aBrokenFileDoesNotKeepAVmPastTheAdminsDate() throws Exception {
        // The course ends 25 s from now; alice breaks her running VM's file before that (issue 36: such a VM kept
        // running, resync after resync, while the valid ones were halted).
        java.time.Instant end = java.time.Instant.now().plusSeconds(25).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        start("lifecycle:\n  warnBefore: 1h\n  users:\n    " + ALICE + ": {expires: \"" + end + "\"}\n");
        vm(ALICE, "web", "Always");
        awaitPhase(ALICE, "web", Phase.Running);
        Host.write(dir(ALICE).resolve("web.yaml"), ALICE, "apiVersion: ie-virsh/v1\nkind: VirtualMachine\n"
                + "spec:\n  template: small\n  image: web.qcow2\n  runStrategy: Always\n  memory: 64GiB\n");
        VmStatus invalid = awaitPhase(ALICE, "web", Phase.Invalid);
        assertTrue(invalid.message().contains("the VM runs on as it was until the file is fixed"), invalid.message());
        assertEquals("running", Host.state(ALICE + "-web"));
        VmStatus expired = Statuses.awaitPhase(dir(ALICE), "web", Phase.Expired, Duration.ofSeconds(90));
        // Expired from the moment it is asked to shut down; forced off after the grace period (this guest boots no
        // OS, nothing answers the power button).
        await().atMost(WAIT).until(() -> Host.state(ALICE + "-web").equals("shut off"));
        assertEquals("False", expired.condition("Valid").status(), "and the file's problem is still told");
        passes(2);
        assertEquals("shut off", Host.state(ALICE + "-web"), "not started again");
    }

    @Test
    void haltedShutsItOffAndAlwaysBringsBackAVmDestroyedOutside() throws Exception {
        start();
        vm(ALICE, "web", "Always");
        awaitPhase(ALICE, "web", Phase.Running);
        Host.virsh("destroy", ALICE + "-web");
        await().atMost(WAIT).until(() -> Host.state(ALICE + "-web").equals("running"));

        vm(ALICE, "web", "Halted");
        awaitPhase(ALICE, "web", Phase.Stopped);
        assertEquals("shut off", Host.state(ALICE + "-web"));
    }

    @Test
    void aRemovedFileUndefinesTheDomainAndLeavesTheImageByteForByte() throws Exception {
        start();
        Path file = vm(ALICE, "web", "Always");
        awaitPhase(ALICE, "web", Phase.Running);
        Path image = tmp.resolve("images").resolve(ALICE).resolve("web.qcow2");
        byte[] before = Files.readAllBytes(image);
        Files.delete(file);
        await().atMost(WAIT).until(() -> Host.state(ALICE + "-web").equals("absent"));
        await().atMost(WAIT).until(() -> !Files.exists(dir(ALICE).resolve(".status/web.yaml")));
        assertArrayEquals(before, Files.readAllBytes(image));
        assertTrue(Files.exists(image));
    }

    @Test
    void anInvalidFileIsReportedWithItsPositionAndTheDomainIsUntouched() throws Exception {
        start();
        Path file = vm(ALICE, "web", "Always");
        awaitPhase(ALICE, "web", Phase.Running);
        String xml = Host.virsh("dumpxml", "--inactive", ALICE + "-web");
        Host.write(file, ALICE, Files.readString(file).replace("memory: 256MiB", "memory: 64GiB")
                .replace("runStrategy: Always", "runStrategy: Halted"));
        VmStatus status = awaitPhase(ALICE, "web", Phase.Invalid);
        assertTrue(status.message().startsWith("web.yaml:7:11: spec.memory: 64GiB exceeds the template maximum 512MiB"),
                status.message());
        passes(2);
        assertEquals("running", Host.state(ALICE + "-web"));
        assertEquals(xml, Host.virsh("dumpxml", "--inactive", ALICE + "-web"));
    }

    @Test
    void statusLinkAttacksWriteNothingOutsideTheStudentsDirectory() throws Exception {
        Path victimDir = Files.createDirectories(tmp.resolve("victim-dir"));
        Path victim = Files.writeString(tmp.resolve("victim-file"), "root's file\n");
        Files.createSymbolicLink(dir(BOB).resolve(".status"), victimDir);
        start();
        vm(BOB, "db", "Halted");
        await().atMost(WAIT).until(() -> Host.state(BOB + "-db").equals("shut off"));
        passes(2);
        try (var files = Files.list(victimDir)) {
            assertEquals(0, files.count(), "nothing written through the .status link");
        }
        assertTrue(registry.scrape().matches("(?s).*ievirsh_status_write_errors_total [1-9].*"));

        Files.delete(dir(BOB).resolve(".status"));
        Files.createDirectory(dir(BOB).resolve(".status"));
        Commands.ok("chown", BOB + ":" + BOB, dir(BOB).resolve(".status").toString());
        Files.createSymbolicLink(dir(BOB).resolve(".status/db.yaml"), victim);
        controller.poke(BOB);
        awaitPhase(BOB, "db", Phase.Stopped);
        assertEquals("root's file\n", Files.readString(victim));
        assertFalse(Files.isSymbolicLink(dir(BOB).resolve(".status/db.yaml")));
    }

    @Test
    void whenTheStudentsDirectoriesDisappearNothingIsDeleted() throws Exception {
        start();
        vm(ALICE, "web", "Always");
        awaitPhase(ALICE, "web", Phase.Running);
        Path home = tmp.resolve("home");
        Path away = tmp.resolve("home-away");
        Files.move(home, away);
        Files.createDirectory(home);
        try {
            controller.discoverNow();
            passes(2);
            assertEquals("running", Host.state(ALICE + "-web"));
        } finally {
            Files.delete(home);
            Files.move(away, home);
        }
    }

    @Test
    void systemAccountsAndAUidWithSeveralDirectoriesAreLeftAlone() throws Exception {
        // minUid 1000: the directory of daemon (uid 1) matches the glob but is no student's.
        Path system = Files.createDirectories(tmp.resolve("home/ievsystem/ie-virsh"));
        Host.image(tmp.resolve("images/daemon"), "daemon", "web.qcow2");
        Files.writeString(system.resolve("web.yaml"), "apiVersion: ie-virsh/v1\nkind: VirtualMachine\nspec:\n"
                + "  template: small\n  image: web.qcow2\n  runStrategy: Always\n  memory: 256MiB\n");
        Commands.ok("chown", "-R", "daemon:daemon", tmp.resolve("home/ievsystem").toString());
        start();
        vm(ALICE, "web", "Always");
        awaitPhase(ALICE, "web", Phase.Running);
        // Alice gets a second matching directory: which one holds her VMs cannot be told, so neither is acted on.
        Path second = Files.createDirectories(tmp.resolve("home/ievalice-old/ie-virsh"));
        Commands.ok("chown", "-R", ALICE + ":" + ALICE, tmp.resolve("home/ievalice-old").toString());
        Host.write(second.resolve("db.yaml"), ALICE, Files.readString(dir(ALICE).resolve("web.yaml"))
                .replace("web.qcow2", "db.qcow2"));
        Host.image(tmp.resolve("images").resolve(ALICE), ALICE, "db.qcow2");
        Files.delete(dir(ALICE).resolve("web.yaml"));
        controller.discoverNow();
        passes(3);
        assertEquals("running", Host.state(ALICE + "-web"), "nothing of hers is removed while she has two");
        assertEquals("absent", Host.state(ALICE + "-db"), "nor made from the second directory");
        assertFalse(Files.exists(second.resolve(".status")));
        assertFalse(Files.exists(system.resolve(".status")), "no status for a system account");
        assertTrue(Host.virsh("list", "--all", "--name").lines().noneMatch(n -> n.contains("ievsystem")
                || n.startsWith("daemon")), "no domain for a system account");

        // One directory again: her files are what counts, and web (its file gone) is removed.
        Commands.ok("rm", "-rf", tmp.resolve("home/ievalice-old").toString());
        controller.discoverNow();
        await().atMost(WAIT).until(() -> Host.state(ALICE + "-web").equals("absent"));
        Commands.ok("rm", "-rf", tmp.resolve("home/ievsystem").toString(), tmp.resolve("images/daemon").toString());
    }

    @Test
    void afterLibvirtdRestartsTheControllerReconnectsAndConverges() throws Exception {
        start();
        vm(ALICE, "web", "Always");
        awaitPhase(ALICE, "web", Phase.Running);
        await().atMost(WAIT).until(controller::ready);
        String pid = Files.readString(Path.of("/run/libvirtd.pid")).strip();
        Commands.ok("kill", pid);
        await().atMost(WAIT).until(() -> !controller.ready());
        vm(ALICE, "web", "Halted");
        awaitPhase(ALICE, "web", Phase.Unknown);
        await().atMost(WAIT).until(() -> Commands.run(List.of("kill", "-0", pid)).code() != 0);
        Commands.ok("libvirtd", "-d");
        await().atMost(WAIT).until(() -> Files.exists(Path.of("/run/libvirt/libvirt-sock")));
        awaitPhase(ALICE, "web", Phase.Stopped);
        assertEquals("shut off", Host.state(ALICE + "-web"));
        await().atMost(WAIT).until(controller::ready);
    }

    @Test
    void killedAtSeveralMomentsAndRestartedItConvergesWithOneDomainPerVmAndNoImageTouched() throws Exception {
        Path config = tmp.resolve("controller.yaml");
        Files.writeString(config, "users:\n  directories: " + tmp.resolve("home") + "/*/ie-virsh\n  minUid: 1000\n"
                + "images:\n  inspection: off\n  root: " + tmp.resolve("images") + "\n"
                + "templates: " + tmp.resolve("templates") + "\n"
                + "blades:\n  - {name: local, uri: \"qemu:///system\", capacity: {vcpus: 64, memory: 256GiB}}\n"
                + "http: {listen: \"127.0.0.1:0\"}\nresync: 5s\nstopGracePeriod: 2s\nworkers: 1\n"
                + "console: {socket: " + tmp.resolve("console.sock") + "}\n");
        List<String> names = List.of("k1", "k2", "k3", "k4");
        for (String name : names) {
            vm(ALICE, name, "Always");
            vm(BOB, name, "Always");
        }
        java.util.Map<Path, String> images = new java.util.TreeMap<>();
        for (String user : List.of(ALICE, BOB)) {
            for (String name : names) {
                Path image = tmp.resolve("images").resolve(user).resolve(name + ".qcow2");
                images.put(image, sha256(image));
            }
        }
        // Killed when the first domain exists, then when three do, then when six do.
        for (int atLeast : new int[] {1, 3, 6}) {
            Process killed = controllerProcess(config);
            await().atMost(WAIT).until(() -> ours().size() >= atLeast);
            killed.destroyForcibly().waitFor();
        }
        Process last = controllerProcess(config);
        try {
            for (String name : names) {
                awaitPhase(ALICE, name, Phase.Running);
                awaitPhase(BOB, name, Phase.Running);
            }
            List<String> expected = new java.util.ArrayList<>();
            for (String user : List.of(ALICE, BOB)) {
                names.forEach(n -> expected.add(user + "-" + n));
            }
            assertEquals(expected.stream().sorted().toList(), ours(), "exactly one domain per VM");
            for (String domain : ours()) {
                assertEquals("running", Host.state(domain));
            }
            for (java.util.Map.Entry<Path, String> image : images.entrySet()) {
                assertEquals(image.getValue(), sha256(image.getKey()), image.getKey() + " is unchanged");
            }
        } finally {
            last.destroy();
            last.waitFor();
        }
    }

    /** The domains of this test's students, by name. */
    private static List<String> ours() {
        return Arrays.stream(Host.virsh("list", "--all", "--name").split("\n")).map(String::strip)
                .filter(n -> n.startsWith(ALICE) || n.startsWith(BOB)).sorted().toList();
    }

    private static String sha256(Path file) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(Files.readAllBytes(file)));
    }

    private static Process controllerProcess(Path config) throws IOException {
        String jar = System.getProperty("ievirsh.jar");
        return new ProcessBuilder("java", "-jar", jar, "controller", "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(tmp.resolve("controller-" + System.nanoTime() + ".log")
                        .toFile()).start();
    }
}
