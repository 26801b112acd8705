package org.ievirsh.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.Phase;
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
 * SnapshotIT is the README's "Snapshots" as a student meets them: a VM of
 * the real guest (.ci/guest.sh) made from an admin's base, on the blade
 * whose network a DHCP server serves; {@code ie-virsh snapshot},
 * {@code snapshots}, {@code revert} and {@code snapshot --delete} run as the
 * student; what the guest wrote after a snapshot read back over SSH after
 * the revert. Running, the snapshot holds the memory too; stopped, it is
 * {@code qemu-img}'s, run as the student. Every process seen holding the
 * student's disk meanwhile runs as the student. The tests share the VM, in
 * order.
 */
@EnabledIfSystemProperty(named = "ievirsh.e2e", matches = "true")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SnapshotIT {
    private static final Duration BOOT = Duration.ofSeconds(120);
    private static final String ALICE = "ievsnap1";
    private static final String BOB = "ievsnap2";
    private static final int ALICE_UID = 41701;
    private static final Host HOST = new Host();
    private static final String BLADE2 = Host.bladeUri("ievirsh.blade2");
    private static final String NETNS = "ievb2";
    private static final List<String> SSH_OPTIONS = List.of("-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR");
    /** A sector of the disk the guest does not use: a mark written there is the disk's, not the memory's. */
    private static final String MARK_AT = "4000";

    @TempDir
    static Path tmp;
    static Path dept;
    static Path bases;
    static String baseHash;
    static String http;
    static CountDownLatch stop;
    static Thread daemon;

    @BeforeAll
    static void start() throws Exception {
        dept = Host.openToAll(Files.createDirectories(tmp.resolve("dept")));
        Path homes = Files.createDirectories(dept.resolve("home"));
        for (String user : List.of(ALICE, BOB)) {
            HOST.user(user, user.equals(ALICE) ? ALICE_UID : ALICE_UID + 1, homes);
            Path ssh = Files.createDirectories(homes.resolve(user).resolve(".ssh"));
            Commands.ok("chown", user + ":" + user, ssh.toString());
            Commands.ok("runuser", "-u", user, "--", "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                    user + "@laptop", "-f", ssh.resolve("id_ed25519").toString());
            Commands.ok("runuser", "-u", user, "--", "cp", ssh.resolve("id_ed25519.pub").toString(),
                    ssh.resolve("authorized_keys").toString());
            Files.createDirectories(images(user));
            Commands.ok("chown", user + ":" + user, images(user).toString());
        }
        Host.guestTemplate(dept.resolve("templates"));
        Commands.ok("chmod", "-R", "a+rX", dept.resolve("templates").toString());
        bases = Bases.directory();
        Bases.base(bases, "tiny", "64M", "description: The tests' guest\nfirstBoot: cloud-init\nuser: debian\n");
        baseHash = Commands.ok("sha256sum", bases.resolve("tiny.qcow2").toString()).split(" ")[0];
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        http = "http://127.0.0.1:" + port;
        String config = "users:\n  directories: " + dept.resolve("home") + "/*/ie-virsh\n  minUid: 1000\n"
                + "images:\n  inspection: off\n  root: " + dept.resolve("images") + "\n"
                + "baseImages:\n  root: " + bases + "\n"
                + "templates: " + dept.resolve("templates") + "\ndefaultTemplate: guest\n"
                + "blades:\n  - {name: b2, uri: \"" + BLADE2 + "\", capacity: {vcpus: 8, memory: 400MiB}}\n"
                + "console: {socket: " + dept.resolve("console.sock") + "}\n"
                + "addresses:\n  sources: [leases]\n  leases: [/tmp/ie-virsh-blades/" + NETNS + "/dnsmasq.leases]\n"
                + "snapshots: {maxPerVm: 3}\nquota: {default: {disk: 128MiB}}\n"
                + "http: {listen: \"127.0.0.1:" + port + "\"}\nresync: 5s\nstopGracePeriod: 20s\n";
        Files.writeString(dept.resolve("controller.yaml"), config);
        Commands.ok("chmod", "a+r", dept.resolve("controller.yaml").toString());
        ControllerConfig parsed = ControllerConfig.parse("snap.yaml", config.getBytes(StandardCharsets.UTF_8)).orThrow();
        stop = new CountDownLatch(1);
        CountDownLatch stopping = stop;
        daemon = new Thread(() -> {
            try {
                Daemon.run(parsed, Optional.empty(), new NssOwners(), stopping);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "snapshot-daemon");
        daemon.start();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (stop != null) {
            stop.countDown();
            daemon.join(30_000);
        }
        for (String domain : List.of(ALICE + "-web", ALICE + "-web2")) {
            Commands.run(List.of("virsh", "-q", "-c", BLADE2, "destroy", domain));
            Commands.run(List.of("virsh", "-q", "-c", BLADE2, "undefine", "--snapshots-metadata", domain));
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

    static Commands.Result ok(String user, String... args) {
        Commands.Result r = cli(user, false, args);
        assertEquals(0, r.code(), String.join(" ", args) + ": " + r.output());
        return r;
    }

    /** {@code ie-virsh ssh web COMMAND} as the student, until the guest's SSH server answers. */
    static Commands.Result ssh(String... command) {
        long deadline = System.nanoTime() + BOOT.toNanos();
        Commands.Result last = null;
        while (System.nanoTime() < deadline) {
            List<String> args = new ArrayList<>(List.of("ssh"));
            args.addAll(SSH_OPTIONS);
            args.add("web");
            args.addAll(List.of(command));
            last = cli(ALICE, true, args.toArray(String[]::new));
            if (last.code() == 0) {
                return last;
            }
            try {
                Thread.sleep(2000);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("ssh web " + String.join(" ", command) + ": exit " + last.code() + ", "
                + last.output() + " (status: " + Statuses.read(dir(ALICE), "web").orElse(null) + ")");
    }

    /** Writes {@code mark} to the guest's disk and to a file in its memory (its root is an initramfs). */
    static void write(String mark) {
        ssh("sh", "-c", "'echo " + mark + " > /home/debian/mark && echo " + mark + " | dd of=/dev/vda bs=512 seek=" + MARK_AT
                + " conv=fsync && echo written'");
    }

    /** What the guest reads back: the file in memory, then the disk's mark. */
    static String read() {
        return ssh("sh", "-c", "'cat /home/debian/mark 2>/dev/null || echo no-file; dd if=/dev/vda bs=512 skip=" + MARK_AT
                + " count=1 2>/dev/null | head -n 1 | tr -d \"\\\\000\"'").output().strip();
    }

    static String snapshots() {
        return ok(ALICE, "snapshots", "web").output();
    }

    @Test
    @Order(1)
    void aRunningVmGoesBackToItsSnapshotMemoryAndDisk() throws Exception {
        Host.write(dir(ALICE).resolve("web.yaml"), ALICE, "apiVersion: ie-virsh/v1\nkind: VirtualMachine\n"
                + "spec:\n  baseImage: tiny\n");
        Statuses.awaitPhase(dir(ALICE), "web", Phase.Running, BOOT);
        write("before");
        Path overlay = images(ALICE).resolve("web.qcow2");
        long cli;
        long revert;
        try (OpenFiles watch = new OpenFiles(Set.of(overlay))) {
            long t0 = System.nanoTime();
            Commands.Result taken = ok(ALICE, "snapshot", "web", "lab3");
            cli = System.nanoTime() - t0;
            assertTrue(taken.output().contains("snapshot lab3: done"), taken.output());
            assertTrue(snapshots().matches("(?s)LABEL\\s+CREATED\\s+STATE\\s+SIZE\\s*\\n"
                    + "lab3\\s+\\d{4}-\\d\\d-\\d\\dT\\S+Z\\s+running\\s+\\d+(\\.\\d+)?[KMG]iB\\s*"), snapshots());
            write("broken");
            assertEquals("broken\nbroken", read());
            t0 = System.nanoTime();
            ok(ALICE, "revert", "web", "lab3");
            revert = System.nanoTime() - t0;
            assertEquals("before\nbefore", read(), "the file written after the snapshot is gone, in memory and on disk");
            assertEquals(Phase.Running, Statuses.read(dir(ALICE), "web").orElseThrow().phase());
            assertOnlyTheStudentWrites(watch);
            assertTrue(watch.sweeps() > 0);
        }
        // The same through libvirt alone, as root, on the same domain: the figure to compare with.
        long jvm = time(() -> ok(ALICE, "snapshots", "web"));
        String domain = ALICE + "-web";
        long virshCreate = time(() -> Commands.ok("virsh", "-q", "-c", BLADE2, "snapshot-create-as", domain, "ref"));
        long virshRevert = time(() -> Commands.ok("virsh", "-q", "-c", BLADE2, "snapshot-revert", domain, "ref"));
        Commands.ok("virsh", "-q", "-c", BLADE2, "snapshot-delete", domain, "ref");
        System.out.printf("snapshot of a running VM (real guest, TCG, " + Statuses.read(dir(ALICE), "web").orElseThrow()
                .memory() + "): ie-virsh snapshot %d ms, revert %d ms"
                + " (ie-virsh snapshots, a listing: %d ms); virsh snapshot-create-as %d ms, snapshot-revert %d ms%n",
                cli / 1_000_000, revert / 1_000_000, jvm / 1_000_000, virshCreate / 1_000_000, virshRevert / 1_000_000);
        assertEquals(baseHash, Commands.ok("sha256sum", bases.resolve("tiny.qcow2").toString()).split(" ")[0],
                "the base is never written");
    }

    @Test
    @Order(2)
    void aStoppedVmsSnapshotIsQemuImgsRunAsTheStudent() throws Exception {
        ok(ALICE, "destroy", "web", "--wait");
        Path overlay = images(ALICE).resolve("web.qcow2");
        try (OpenFiles watch = new OpenFiles(Set.of(overlay))) {
            ok(ALICE, "snapshot", "web", "cold");
            assertTrue(snapshots().matches("(?s).*\\ncold\\s+\\S+\\s+stopped\\s+0B?\\s*.*"), snapshots());
            assertOnlyTheStudentWrites(watch);
        }
        // Taken stopped: reverted while stopped, then started; what was written between is gone.
        ok(ALICE, "start", "web", "--wait");
        write("later");
        Commands.Result running = cli(ALICE, false, "revert", "web", "cold");
        assertEquals(1, running.code(), running.output());
        assertTrue(running.output().contains("was taken while web was stopped"), running.output());
        ok(ALICE, "destroy", "web", "--wait");
        ok(ALICE, "revert", "web", "cold");
        ok(ALICE, "start", "web", "--wait");
        assertEquals("no-file\nbefore", read(), "the disk is as it was stopped; the memory is a fresh boot's");
        assertEquals(baseHash, Commands.ok("sha256sum", bases.resolve("tiny.qcow2").toString()).split(" ")[0]);
    }

    @Test
    @Order(3)
    void whatIsNotAllowedIsRefusedWithWhatToDo() {
        Commands.Result taken = cli(ALICE, false, "snapshot", "web", "lab3");
        assertEquals(1, taken.code());
        assertTrue(taken.output().contains("has a snapshot lab3 already"), taken.output());
        ok(ALICE, "snapshot", "web", "third");
        Commands.Result most = cli(ALICE, false, "snapshot", "web", "fourth");
        assertEquals(1, most.code());
        assertTrue(most.output().contains("3 snapshots, the most allowed (snapshots.maxPerVm 3)"), most.output());
        Commands.Result none = cli(ALICE, false, "revert", "web", "nope");
        assertTrue(none.output().contains("there is no snapshot nope of web"), none.output());
        // Another student reaches only their own VMs; a label that is no name never reaches the controller.
        Commands.Result bob = cli(BOB, false, "snapshot", "web", "mine");
        assertEquals(1, bob.code());
        assertTrue(bob.output().contains("there is no VM web of yours"), bob.output());
        Commands.Result bad = cli(ALICE, false, "snapshot", "web", "../x");
        assertEquals(1, bad.code());
        assertTrue(bad.output().contains("is not a snapshot label"), bad.output());
    }

    @Test
    @Order(4)
    void deletedSnapshotsAreGoneAndCounted() {
        ok(ALICE, "snapshot", "web", "third", "--delete");     // running: libvirt deletes it
        ok(ALICE, "destroy", "web", "--wait");
        ok(ALICE, "snapshot", "web", "cold", "--delete");      // stopped: qemu-img
        String left = snapshots();
        assertTrue(left.contains("lab3") && !left.contains("third") && !left.contains("cold"), left);
        String metrics = Commands.ok("curl", "-s", http + "/metrics");
        assertTrue(metrics.matches("(?s).*ievirsh_snapshot_requests_total\\{op=\"snapshot\",result=\"ok\"\\} [1-9].*"),
                metrics);
        assertTrue(metrics.matches("(?s).*ievirsh_snapshot_requests_total\\{op=\"snapshot\",result=\"refused\"\\} [1-9].*"),
                metrics);
        assertTrue(metrics.matches("(?s).*ievirsh_snapshot_requests_total\\{op=\"revert\",result=\"ok\"\\} [1-9].*"),
                metrics);
    }

    @Test
    @Order(5)
    void aRunningSnapshotsMemoryCountsTowardTheDiskQuota() throws Exception {
        // quota.disk 128 MiB: web's 64 MiB disk, and the memory its snapshot lab3 saved; a second 64 MiB disk
        // would fit beside web's alone.
        Host.write(dir(ALICE).resolve("web2.yaml"), ALICE, "apiVersion: ie-virsh/v1\nkind: VirtualMachine\n"
                + "spec:\n  baseImage: tiny\n  runStrategy: Halted\n");
        String message = Statuses.awaitPhase(dir(ALICE), "web2", Phase.QuotaExceeded, BOOT).message();
        assertTrue(message.contains("would exceed your disk quota of 128MiB") && message.contains("and their snapshots"),
                message);
        ok(ALICE, "snapshot", "web", "lab3", "--delete");
        Statuses.awaitPhase(dir(ALICE), "web2", Phase.Stopped, BOOT);
    }

    /**
     * Every process seen holding the disk was the student's, but for the
     * controller's own read-only look at its header (the README's "Base
     * images": the overlay's size counts against quota.disk).
     */
    static void assertOnlyTheStudentWrites(OpenFiles watch) {
        for (String holder : watch.caught()) {
            assertTrue(holder.contains("uid " + ALICE_UID + " ") || holder.endsWith(" read-only"),
                    "only the student's processes write the disk: " + holder);
        }
    }

    private static long time(Runnable r) {
        long t0 = System.nanoTime();
        r.run();
        return System.nanoTime() - t0;
    }
}
