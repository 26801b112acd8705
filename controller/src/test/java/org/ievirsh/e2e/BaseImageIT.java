package org.ievirsh.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.controller.Daemon;
import org.ievirsh.support.Bases;
import org.ievirsh.support.Commands;
import org.ievirsh.support.Statuses;
import org.ievirsh.users.NssOwners;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * BaseImageIT is the README's "Base images" and "First boot" as a student
 * meets them: an admin's base with {@code firstBoot: cloud-init} and
 * {@code user: debian}; a student who writes four lines and has their key in
 * {@code ~/.ssh/authorized_keys}; the whole controller; the real guest of
 * .ci/guest.sh, which honours the NoCloud seed as cloud-init does (host
 * name, the image user's keys) and serves SSH, booted on the blade whose
 * network a DHCP server serves; {@code ie-virsh ssh} run as the student from
 * inside that network. The tests share the VM, in order.
 */
@EnabledIfSystemProperty(named = "ievirsh.e2e", matches = "true")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BaseImageIT {
    private static final Duration BOOT = Duration.ofSeconds(120);
    private static final String ALICE = "ievbase1";
    private static final String BOB = "ievbase2";
    private static final Host HOST = new Host();
    private static final String BLADE2 = Host.bladeUri("ievirsh.blade2");
    /** The network namespace of blade 2 (.ci/blades.sh): its guests' network is reachable from there. */
    private static final String NETNS = "ievb2";
    private static final List<String> SSH_OPTIONS = List.of("-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR");

    @TempDir
    static Path tmp;
    static Path dept;
    static Path bases;
    static String baseHash;
    static CountDownLatch stop;
    static Thread daemon;

    @BeforeAll
    static void start() throws Exception {
        dept = Host.openToAll(Files.createDirectories(tmp.resolve("dept")));
        Path homes = Files.createDirectories(dept.resolve("home"));
        for (String user : List.of(ALICE, BOB)) {
            HOST.user(user, user.equals(ALICE) ? 41301 : 41302, homes);
            Path ssh = Files.createDirectories(homes.resolve(user).resolve(".ssh"));
            Commands.ok("chown", user + ":" + user, ssh.toString());
            // Each student's own key pair, made as them; the public key is what the VM is to accept.
            Commands.ok("runuser", "-u", user, "--", "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                    user + "@laptop", "-f", ssh.resolve("id_ed25519").toString());
            Commands.ok("runuser", "-u", user, "--", "cp", ssh.resolve("id_ed25519.pub").toString(),
                    ssh.resolve("authorized_keys").toString());
        }
        Host.guestTemplate(dept.resolve("templates"));
        Commands.ok("chmod", "-R", "a+rX", dept.resolve("templates").toString());
        for (String user : List.of(ALICE, BOB)) {  // the admin makes each student's image directory
            Files.createDirectories(images(user));
            Commands.ok("chown", user + ":" + user, images(user).toString());
        }
        bases = Bases.directory();
        Bases.base(bases, "tiny", "64M", "description: The tests' guest\nfirstBoot: cloud-init\nuser: debian\n");
        baseHash = sha256(bases.resolve("tiny.qcow2"));
        Files.writeString(dept.resolve("controller.yaml"), config());
        Commands.ok("chmod", "a+r", dept.resolve("controller.yaml").toString());
        ControllerConfig config = ControllerConfig.parse("base.yaml", config().getBytes(StandardCharsets.UTF_8))
                .orThrow();
        stop = new CountDownLatch(1);
        CountDownLatch stopping = stop;
        daemon = new Thread(() -> {
            try {
                Daemon.run(config, Optional.empty(), new NssOwners(), stopping);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "base-daemon");
        daemon.start();
    }

    static String config() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        return "users:\n  directories: " + dept.resolve("home") + "/*/ie-virsh\n  minUid: 1000\n"
                + "images:\n  inspection: off\n  root: " + dept.resolve("images") + "\n"
                + "baseImages:\n  root: " + bases + "\n"
                + "templates: " + dept.resolve("templates") + "\ndefaultTemplate: guest\n"
                + "blades:\n  - {name: b2, uri: \"" + BLADE2 + "\", capacity: {vcpus: 8, memory: 400MiB}}\n"
                + "console: {socket: " + dept.resolve("console.sock") + "}\n"
                + "addresses:\n  sources: [leases]\n  leases: [/tmp/ie-virsh-blades/" + NETNS + "/dnsmasq.leases]\n"
                + "http: {listen: \"127.0.0.1:" + port + "\"}\nresync: 5s\nstopGracePeriod: 20s\n";
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (stop != null) {
            stop.countDown();
            daemon.join(30_000);
        }
        Commands.run(List.of("virsh", "-q", "-c", BLADE2, "destroy", ALICE + "-web"));
        Commands.run(List.of("virsh", "-q", "-c", BLADE2, "undefine", ALICE + "-web"));
        for (String domain : List.of(BOB + "-lab", BOB + "-box")) {
            Commands.run(List.of("virsh", "-q", "-c", BLADE2, "destroy", domain));
            Commands.run(List.of("virsh", "-q", "-c", BLADE2, "undefine", domain));
        }
        HOST.deleteUsers();
        Commands.run(List.of("rm", "-rf", bases.toString()));
    }

    static Path dir(String user) {
        return dept.resolve("home").resolve(user).resolve("ie-virsh");
    }

    static Path images(String user) {
        return dept.resolve("images").resolve(user);
    }

    /** Runs the student CLI as {@code user}, in blade 2's network when {@code inNetwork}. */
    static Commands.Result cli(String user, boolean inNetwork, String... args) {
        List<String> command = new ArrayList<>();
        if (inNetwork) {
            command.addAll(List.of("ip", "netns", "exec", NETNS));
        }
        command.addAll(List.of("runuser", "-u", user, "--", "java", "-jar", System.getProperty("ievirsh.jar"),
                args[0], "--config", dept.resolve("controller.yaml").toString()));
        command.addAll(List.of(args).subList(1, args.length));
        return Commands.run(command);
    }

    static String sha256(Path file) {
        return Commands.ok("sha256sum", file.toString()).split(" ")[0];
    }

    @Test
    @Order(1)
    void aStudentSeesTheBasesTheyMayStartFrom() {
        Commands.Result bases = cli(ALICE, false, "bases");
        assertEquals(0, bases.code(), bases.output());
        assertTrue(bases.output().matches("(?s)NAME\\s+SIZE\\s+FIRSTBOOT\\s+DESCRIPTION\\s*\\n"
                + "tiny\\s+64MiB\\s+cloud-init\\s+The tests' guest\\s*"), bases.output());
    }

    @Test
    @Order(2)
    void fourLinesGiveARunningVmOnTheStudentsOwnOverlayThatTheirKeyLogsInto() throws Exception {
        Host.write(dir(ALICE).resolve("web.yaml"), ALICE, "apiVersion: ie-virsh/v1\nkind: VirtualMachine\n"
                + "spec:\n  baseImage: tiny\n");
        VmStatus running = Statuses.awaitPhase(dir(ALICE), "web", Phase.Running, BOOT);
        assertEquals("cloud-init", running.firstBoot());
        // The disk is the student's: made as them, theirs alone, an overlay naming the base and its format.
        Path overlay = images(ALICE).resolve("web.qcow2");
        assertEquals(41301, Files.getAttribute(overlay, "unix:uid", LinkOption.NOFOLLOW_LINKS));
        assertEquals(0600, (Integer) Files.getAttribute(overlay, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 0777);
        String info = Commands.ok("runuser", "-u", ALICE, "--", "qemu-img", "info", "-U", "--output=json", overlay.toString());
        assertTrue(info.contains("\"backing-filename\": \"" + bases.resolve("tiny.qcow2") + "\""), info);
        assertTrue(info.contains("\"backing-filename-format\": \"qcow2\""), info);
        Path seed = images(ALICE).resolve(".seed").resolve("web.iso");
        assertEquals(41301, Files.getAttribute(seed, "unix:uid", LinkOption.NOFOLLOW_LINKS));
        // ie-virsh ssh web hostname, from where the VM's network is: the base's user, the student's key.
        Commands.Result ssh = awaitSsh(ALICE, "hostname");
        assertEquals(0, ssh.code(), ssh.output());
        assertEquals("web", ssh.output().strip());
    }

    /** {@code ie-virsh ssh -o ... web COMMAND} as {@code user}, until the guest's SSH server answers. */
    static Commands.Result awaitSsh(String user, String... command) {
        long deadline = System.nanoTime() + BOOT.toNanos();
        Commands.Result last = null;
        while (System.nanoTime() < deadline) {
            List<String> args = new ArrayList<>(List.of("ssh"));
            args.addAll(SSH_OPTIONS);
            args.add("web");
            args.addAll(List.of(command));
            last = cli(user, true, args.toArray(String[]::new));
            if (last.code() == 0) {
                return last;
            }
            sleep(2000);
        }
        return last;
    }

    @Test
    @Order(3)
    void anotherStudentsKeyIsRefused() {
        String ip = Statuses.read(dir(ALICE), "web").orElseThrow().ip();
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", NETNS, "runuser", "-u", BOB, "--",
                "ssh", "-i", dept.resolve("home").resolve(BOB).resolve(".ssh/id_ed25519").toString()));
        command.addAll(SSH_OPTIONS);
        command.addAll(List.of("-l", "debian", "--", ip, "hostname"));
        Commands.Result bob = Commands.run(command);
        assertEquals(255, bob.code(), bob.output());
        assertTrue(bob.output().contains("Permission denied"), bob.output());
    }

    @Test
    @Order(4)
    void resetKeepsTheOldDiskAsideAndStartsOnAFreshOne() throws Exception {
        // Something of the student's on the disk: the overlay grows; a fresh one is small again.
        Commands.Result wrote = awaitSsh(ALICE, "dd", "if=/dev/urandom", "of=/dev/vda", "bs=1M", "count=8",
                "2>/dev/null", "&&", "sync", "&&", "echo", "written");
        assertTrue(wrote.output().contains("written"), wrote.output());
        Commands.Result reset = cli(ALICE, false, "reset", "web", "--yes");
        assertEquals(0, reset.code(), reset.output());
        assertTrue(reset.output().contains("moved web.qcow2 aside to "), reset.output());
        Path old;
        try (Stream<Path> files = Files.list(images(ALICE))) {
            old = files.filter(p -> p.getFileName().toString().matches("web\\.qcow2\\.\\d{8}T\\d{6}Z\\.old"))
                    .findFirst().orElseThrow(() -> new AssertionError("no .old file: " + reset.output()));
        }
        assertEquals(41301, Files.getAttribute(old, "unix:uid", LinkOption.NOFOLLOW_LINKS));
        assertTrue(Files.size(old) > 8 << 20, "the old disk holds what was written: " + Files.size(old));
        assertTrue(Files.readString(dir(ALICE).resolve("web.yaml")).contains("baseImage: tiny"));
        await().atMost(BOOT).pollInterval(Duration.ofSeconds(1)).until(() -> Files.exists(images(ALICE)
                .resolve("web.qcow2")) && Statuses.read(dir(ALICE), "web").map(VmStatus::phase).orElse(null)
                == Phase.Running);
        assertTrue(Files.size(images(ALICE).resolve("web.qcow2")) < 4 << 20, "a fresh overlay");
        assertNotEquals(old, images(ALICE).resolve("web.qcow2"));
        assertEquals("web", awaitSsh(ALICE, "hostname").output().strip());
    }

    @Test
    @Order(5)
    void whatAStudentPutsInTheWayReadsOnlyWhatTheyCouldReadThemselves() throws Exception {
        Path home = dept.resolve("home").resolve(BOB);
        // authorized_keys a link to /etc/shadow: read as bob, it reads nothing.
        Commands.ok("runuser", "-u", BOB, "--", "ln", "-sf", "/etc/shadow", home.resolve(".ssh/authorized_keys")
                .toString());
        // A user-data file in bob's directory that is not bob's: not used.
        Files.writeString(dir(BOB).resolve("lab.user-data"), "#cloud-config\nruncmd: [not-bobs]\n");
        Host.write(dir(BOB).resolve("lab.yaml"), BOB, "apiVersion: ie-virsh/v1\nkind: VirtualMachine\n"
                + "spec:\n  baseImage: tiny\n  runStrategy: Halted\n");
        Statuses.awaitPhase(dir(BOB), "lab", Phase.Stopped, BOOT);
        Path iso = images(BOB).resolve(".seed").resolve("lab.iso");
        String meta = Commands.ok("isoinfo", "-R", "-i", iso.toString(), "-x", "/meta-data");
        assertTrue(meta.contains("local-hostname: \"lab\"") && !meta.contains("public-keys") && !meta.contains("root:"),
                meta);
        assertEquals("#cloud-config\n", Commands.ok("isoinfo", "-R", "-i", iso.toString(), "-x", "/user-data"));

        // A 1 GiB authorized_keys (sparse, bob's): at most 64 KiB of it is read, and the seed is made again.
        Commands.ok("runuser", "-u", BOB, "--", "rm", home.resolve(".ssh/authorized_keys").toString());
        Commands.ok("runuser", "-u", BOB, "--", "truncate", "-s", "1G", home.resolve(".ssh/authorized_keys").toString());
        Commands.ok("sh", "-c", "cat " + home.resolve(".ssh/id_ed25519.pub") + " >> " + home.resolve(".ssh/authorized_keys"));
        String inputs = Files.readString(images(BOB).resolve(".seed/lab.inputs"));
        await().atMost(Duration.ofSeconds(30)).until(() -> !Files.readString(images(BOB).resolve(".seed/lab.inputs"))
                .equals(inputs));
        String big = Commands.ok("isoinfo", "-R", "-i", iso.toString(), "-x", "/meta-data");
        assertTrue(!big.contains("public-keys"), "the key after the first 64 KiB is not read: " + big);

        // A file at the disk's name that bob made himself, an overlay of a file only root reads: refused as it is.
        Path secret = Files.writeString(tmp.resolve("root-only"), "secret");
        Commands.ok("chmod", "600", secret.toString());
        Commands.ok("runuser", "-u", BOB, "--", "qemu-img", "create", "-q", "-f", "qcow2", "-u", "-F", "raw", "-b",
                secret.toString(), images(BOB).resolve("box.qcow2").toString(), "64M");
        Host.write(dir(BOB).resolve("box.yaml"), BOB, "apiVersion: ie-virsh/v1\nkind: VirtualMachine\n"
                + "spec:\n  baseImage: tiny\n");
        VmStatus refused = Statuses.awaitPhase(dir(BOB), "box", Phase.ImageRejected, BOOT);
        assertTrue(refused.message().contains(secret.toString()), refused.message());
        assertEquals("secret", Files.readString(secret));
        assertEquals(Phase.Running, Statuses.read(dir(ALICE), "web").orElseThrow().phase(), "alice's VM ran on");
    }

    @Test
    @Order(6)
    void theBaseIsUnchangedAfterEverything() {
        assertEquals(baseHash, sha256(bases.resolve("tiny.qcow2")));
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
