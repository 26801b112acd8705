package org.ievirsh.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Pattern;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.controller.Daemon;
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
 * ReachIT is a student reaching their VM (the README's "Reaching your VM") the way they
 * would: a real guest OS (.ci/guest.sh) booted on the second blade, whose
 * dnsmasq leases it an address, and on the host's own libvirtd; the whole
 * controller as the service runs it (HTTP, console socket); the student's
 * commands run as real unprivileged users. The two guests are shared by
 * the tests, in order.
 */
@EnabledIfSystemProperty(named = "ievirsh.e2e", matches = "true")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReachIT {
    private static final Duration BOOT = Duration.ofSeconds(90);
    private static final String ALICE = "ievreach1";
    private static final String BOB = "ievreach2";
    private static final Host HOST = new Host();
    private static final String BLADE2 = Host.bladeUri("ievirsh.blade2");
    private static final Path LEASES = Path.of(System.getProperty("ievirsh.blade2.leases",
            "/tmp/ie-virsh-blades/ievb2/dnsmasq.leases"));

    @TempDir
    static Path tmp;
    static Path base;
    static int httpPort;
    static CountDownLatch stop;
    static Thread daemon;

    @BeforeAll
    static void start() throws Exception {
        base = Host.openToAll(Files.createDirectories(tmp.resolve("dept")));
        Path homes = Files.createDirectories(base.resolve("home"));
        HOST.user(ALICE, 41201, homes);
        HOST.user(BOB, 41202, homes);
        Host.guestTemplate(base.resolve("templates"));
        Commands.ok("chmod", "-R", "a+rX", base.resolve("templates").toString());
        for (String vm : List.of("web", "box")) {
            Host.image(base.resolve("images").resolve(ALICE), ALICE, vm + ".qcow2");
        }
        try (ServerSocket s = new ServerSocket(0)) {
            httpPort = s.getLocalPort();
        }
        startDaemon("[leases, agent]");
    }

    /** The controller's config: blade b2 (with the DHCP server) a little roomier than the host's own blade. */
    static String config(String sources) {
        return "users:\n  directories: " + base.resolve("home") + "/*/ie-virsh\n  minUid: 1000\n"
                + "images:\n  inspection: off\n  root: " + base.resolve("images") + "\n"
                + "templates: " + base.resolve("templates") + "\ndefaultTemplate: guest\n"
                + "blades:\n  - {name: b2, uri: \"" + BLADE2 + "\", capacity: {vcpus: 8, memory: 400MiB}}\n"
                + "  - {name: local, uri: \"qemu:///system\", capacity: {vcpus: 8, memory: 300MiB}}\n"
                + "addresses:\n  sources: " + sources + "\n  leases: [" + LEASES + "]\n"
                + "console: {socket: " + base.resolve("console.sock") + ", maxSessionsPerUser: 4}\n"
                + "http: {listen: \"127.0.0.1:" + httpPort + "\"}\nresync: 5s\nstopGracePeriod: 60s\n";
    }

    static void startDaemon(String sources) throws Exception {
        Files.writeString(base.resolve("controller.yaml"), config(sources));
        Commands.ok("chmod", "a+r", base.resolve("controller.yaml").toString());
        ControllerConfig config = ControllerConfig.parse("reach.yaml", config(sources).getBytes(StandardCharsets.UTF_8))
                .orThrow();
        stop = new CountDownLatch(1);
        CountDownLatch stopping = stop;
        daemon = new Thread(() -> {
            try {
                Daemon.run(config, Optional.empty(), new NssOwners(), stopping);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "reach-daemon");
        daemon.start();
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> http("/readyz").contains("ready"));
    }

    static void stopDaemon() throws InterruptedException {
        stop.countDown();
        daemon.join(30_000);
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (stop != null) {
            stopDaemon();
        }
        Host.removeDomains(ALICE);
        for (String name : List.of(ALICE + "-web", ALICE + "-box")) {
            Commands.run(List.of("virsh", "-q", "-c", BLADE2, "destroy", name));
            Commands.run(List.of("virsh", "-q", "-c", BLADE2, "undefine", name));
        }
        HOST.deleteUsers();
    }

    /** One client, one connection: the controller serves at most 128 connections at once. */
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    static String http(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    static Path dir(String user) {
        return base.resolve("home").resolve(user).resolve("ie-virsh");
    }

    static void vm(String name, String strategy) throws IOException {
        Host.write(dir(ALICE).resolve(name + ".yaml"), ALICE, "apiVersion: ie-virsh/v1\nkind: VirtualMachine\n"
                + "spec:\n  image: " + name + ".qcow2\n  runStrategy: " + strategy + "\n");
    }

    /** Runs the student CLI as {@code user}: {@code stdin} goes to the command. */
    static Commands.Result cli(String user, String stdin, String... args) {
        StringBuilder command = new StringBuilder();
        if (stdin != null) {
            command.append("printf '%s\\n' '").append(stdin.replace("'", "'\\''")).append("' | ");
        }
        if (args[0].startsWith("PATH=")) {  // an environment for the command
            command.append(args[0]).append(' ');
            args = java.util.Arrays.copyOfRange(args, 1, args.length);
        }
        command.append("java -jar ").append(System.getProperty("ievirsh.jar")).append(' ').append(args[0])
                .append(" --config ").append(base.resolve("controller.yaml"));
        for (int i = 1; i < args.length; i++) {
            command.append(' ').append(args[i]);
        }
        return Commands.run(List.of("runuser", "-u", user, "--", "sh", "-c", command.toString()));
    }

    /** The address dnsmasq leased to {@code mac}, once it did. */
    static String leased(String mac) throws IOException {
        for (String line : Files.readAllLines(LEASES)) {
            String[] f = line.split(" ");
            if (f.length >= 3 && f[1].equalsIgnoreCase(mac)) {
                return f[2];
            }
        }
        return null;
    }

    @Test
    @Order(1)
    void theAddressDnsmasqLeasedShowsInTheStatusAndInList() throws Exception {
        vm("web", "Always");
        VmStatus running = Statuses.awaitPhase(dir(ALICE), "web", Phase.Running, BOOT);
        assertEquals("b2", running.blade(), "the VM with the DHCP server is on b2");
        await().atMost(BOOT).until(() -> leased(running.mac()) != null);
        String ip = leased(running.mac());
        await().atMost(Duration.ofSeconds(10)).until(() -> ip.equals(Statuses.read(dir(ALICE), "web")
                .map(VmStatus::ip).orElse(null)));
        VmStatus status = Statuses.read(dir(ALICE), "web").orElseThrow();
        assertEquals(new VmStatus.Address(ip, running.mac(), "lease"), status.addresses().get(0));
        Commands.Result list = cli(ALICE, null, "list");
        assertTrue(list.output().matches("(?s).*\\nweb\\s+Running\\s+b2\\s+" + Pattern.quote(ip) + "\\s.*"),
                list.output());
        // ie-virsh ssh [-l USER] [-o OPTION]... NAME [COMMAND...] runs ssh -l USER -o OPTION... -- IP COMMAND...:
        // an ssh of the test's on the student's PATH prints what it was given.
        Path fake = Files.createDirectories(base.resolve("fake-ssh"));
        Files.writeString(fake.resolve("ssh"), "#!/bin/sh\nprintf 'ssh'; for a in \"$@\"; do printf ' [%s]' \"$a\";"
                + " done; echo\n");
        Commands.ok("chmod", "-R", "a+rx", fake.toString());
        Commands.Result ssh = cli(ALICE, null, "PATH=" + fake + ":$PATH", "ssh", "-l", "debian", "-o",
                "ConnectTimeout=5", "web", "uname", "-a");
        assertEquals(0, ssh.code(), ssh.output());
        assertTrue(ssh.output().contains("ssh [-l] [debian] [-o] [ConnectTimeout=5] [--] [" + ip + "] [uname] [-a]"),
                ssh.output());
    }

    @Test
    @Order(2)
    void theStudentTypesIntoTheConsoleAndReadsTheAnswer() {
        Commands.Result console = awaitConsole("web", "echo hi-$((6*7))", "hi-42");
        assertEquals(0, console.code(), console.output());
    }

    /** Runs a piped console session until the guest's shell answered (it may still be booting). */
    static Commands.Result awaitConsole(String vm, String input, String answer) {
        long deadline = System.nanoTime() + BOOT.toNanos();
        Commands.Result last = null;
        while (System.nanoTime() < deadline) {
            last = cli(ALICE, input, "console", vm);
            if (last.output().contains(answer)) {
                return last;
            }
        }
        throw new AssertionError("no answer " + answer + " from the console of " + vm + ": " + last.output());
    }

    @Test
    @Order(3)
    void anotherStudentIsRefusedByNameByOwnerAndByAForgedRequest() throws Exception {
        Commands.Result byName = cli(BOB, "id", "console", "web");
        assertEquals(1, byName.code(), byName.output());
        assertTrue(byName.output().contains("there is no VM web of yours"), byName.output());
        Commands.Result byOwner = cli(BOB, "id", "console", ALICE + "/web");
        assertEquals(1, byOwner.code(), byOwner.output());
        assertTrue(byOwner.output().contains("only your own VMs"), byOwner.output());
        // The raw socket: bob writes the request himself, claiming alice's name in every way he can.
        Path forge = Files.writeString(tmp.resolve("Forge.java"), "import java.net.*; import java.nio.*;"
                + " import java.nio.channels.*; public class Forge { public static void main(String[] a) throws"
                + " Exception { SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);"
                + " c.connect(UnixDomainSocketAddress.of(a[0])); c.write(ByteBuffer.wrap(a[1].replace(\"\\\\n\","
                + " \"\\n\").getBytes())); ByteBuffer b = ByteBuffer.allocate(4096); int n; while ((n ="
                + " c.read(b.clear())) > 0) System.out.write(b.array(), 0, n); System.out.flush(); } }");
        Commands.ok("chmod", "a+r", forge.toString());
        for (String request : List.of("CONSOLE " + ALICE + "/web\\n", "CONSOLE web\\nuser " + ALICE + "\\n",
                "CONSOLE ../" + ALICE + "/web\\n", "USER " + ALICE + "\\nCONSOLE web\\n")) {
            Commands.Result forged = Commands.run(List.of("runuser", "-u", BOB, "--", "java", forge.toString(),
                    base.resolve("console.sock").toString(), request));
            assertTrue(forged.output().startsWith("ERROR "), request + ": " + forged.output());
            assertTrue(!forged.output().contains("OK"), request + ": " + forged.output());
        }
    }

    @Test
    @Order(4)
    void aSecondSessionIsRefusedAndForceTakesOver() throws Exception {
        // A session whose stdin stays open (this test holds the pipe): it lasts until something ends it.
        Process first = new ProcessBuilder("runuser", "-u", ALICE, "--", "java", "-jar",
                System.getProperty("ievirsh.jar"), "console", "web", "--config", base.resolve("controller.yaml")
                .toString()).redirectErrorStream(true).start();
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> http("/metrics").contains("ievirsh_console_sessions 1.0"));
            Commands.Result second = cli(ALICE, "id", "console", "web");
            assertEquals(1, second.code(), second.output());
            assertTrue(second.output().contains("already open; ie-virsh console web --force takes it over"),
                    second.output());
            Commands.Result forced = cli(ALICE, "echo forced-$((1+1))", "console", "web", "--force");
            assertTrue(forced.output().contains("forced-2"), forced.output());
            assertTrue(first.waitFor(20, java.util.concurrent.TimeUnit.SECONDS), "the first session ended");
        } finally {
            first.destroyForcibly();
        }
    }

    @Test
    @Order(5)
    void aVmOnTheHostsOwnBladeHasAConsoleToo() throws Exception {
        vm("box", "Always");
        VmStatus box = Statuses.awaitPhase(dir(ALICE), "box", Phase.Running, BOOT);
        assertEquals("local", box.blade());
        awaitConsole("box", "echo box-$((2*21))", "box-42");
    }

    @Test
    @Order(6)
    void withoutTheLeaseFileTheAgentGivesTheSameAddress() throws Exception {
        String ip = Statuses.read(dir(ALICE), "web").orElseThrow().ip();
        stopDaemon();
        startDaemon("[agent]");
        await().atMost(BOOT).until(() -> Statuses.read(dir(ALICE), "web").map(s -> s.addresses() != null
                && s.addresses().get(0).source().equals("agent")).orElse(false));
        VmStatus status = Statuses.read(dir(ALICE), "web").orElseThrow();
        assertEquals(ip, status.ip());
        assertEquals(new VmStatus.Address(ip, status.mac(), "agent"), status.addresses().get(0));
    }

    @Test
    @Order(7)
    void haltedIsARealShutdownAndTheAddressGoes() throws Exception {
        vm("web", "Halted");
        VmStatus stopped = Statuses.awaitPhase(dir(ALICE), "web", Phase.Stopped, BOOT);
        assertEquals(null, stopped.ip());
        String reason = Commands.ok("virsh", "-q", "-c", BLADE2, "domstate", "--reason", ALICE + "-web").strip();
        assertEquals("shut off (shutdown)", reason, "the guest powered off on the ACPI button, not forced");
        Commands.Result ssh = cli(ALICE, null, "ssh", "web");
        assertEquals(1, ssh.code(), ssh.output());
        assertTrue(ssh.output().contains("web is Stopped"), ssh.output());
    }
}
