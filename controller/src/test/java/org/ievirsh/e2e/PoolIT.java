package org.ievirsh.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.ievirsh.api.v1.Condition;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.support.Commands;
import org.ievirsh.support.Statuses;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * PoolIT runs the controller as the service runs it (its own process, its
 * config file live) over two real blades in network namespaces that share
 * /tmp as their SAN and run libvirt's lock engine (lockd, one lockspace):
 * a drain by live migration of two students' VMs (one a real guest whose
 * uptime must go on), a VM with nowhere to go, the lock engine refusing a
 * second QEMU, a refused config edit, kill -9 in the middle of a drain, and
 * a blade that dies under bladeDown restartElsewhere. The VMs are shared by
 * the tests, in order.
 */
@EnabledIfSystemProperty(named = "ievirsh.e2e", matches = "true")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PoolIT {
    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final String ANN = "ievpool1";
    private static final String BEN = "ievpool2";
    private static final Host HOST = new Host();
    private static final Map<String, String> URIS = Map.of("b2", Host.bladeUri("ievirsh.blade2"),
            "b3", Host.bladeUri("ievirsh.blade3"));
    /** The controller's log, kept after the run (target/ is the module's build directory). */
    private static final Path LOG = Path.of("target", "PoolIT-controller.log");
    private static final Path LOCKSPACE = Path.of("/tmp/ie-virsh-blades/lockspace");
    /** Every VM: user/name, and whether it runs. */
    private static final Map<String, Boolean> VMS = new java.util.LinkedHashMap<>();

    static {
        VMS.put(ANN + "/guest", true);
        VMS.put(ANN + "/k1", true);
        VMS.put(ANN + "/k2", true);
        VMS.put(ANN + "/s1", false);
        VMS.put(BEN + "/k3", true);
        VMS.put(BEN + "/k4", true);
        VMS.put(BEN + "/k5", true);
        VMS.put(BEN + "/s2", false);
    }

    @TempDir
    static Path tmp;
    static Path base;
    static Path configFile;
    static int httpPort;
    static Process controller;

    @BeforeAll
    static void setUp() throws Exception {
        Files.deleteIfExists(LOG);
        base = Host.openToAll(Files.createDirectories(tmp.resolve("dept")));
        Path homes = Files.createDirectories(base.resolve("home"));
        Files.createDirectories(base.resolve("images"));
        HOST.user(ANN, 41301, homes);
        HOST.user(BEN, 41302, homes);
        Host.templates(base.resolve("templates"));
        Host.guestTemplate(base.resolve("templates"));
        Commands.ok("chmod", "-R", "a+rX", base.resolve("templates").toString());
        try (ServerSocket s = new ServerSocket(0)) {
            httpPort = s.getLocalPort();
        }
        configFile = base.resolve("controller.yaml");
        writeConfig(blade("b2", "") + blade("b3", "schedulable: false"), "");
        startController();
        for (String key : VMS.keySet()) {
            String user = key.substring(0, key.indexOf('/'));
            String vm = key.substring(key.indexOf('/') + 1);
            Host.image(base.resolve("images").resolve(user), user, vm + ".qcow2");
            Host.write(dir(user).resolve(vm + ".yaml"), user, "apiVersion: ie-virsh/v1\nkind: VirtualMachine\nspec:\n"
                    + "  template: " + (vm.equals("guest") ? "guest" : "small") + "\n  image: " + vm + ".qcow2\n"
                    + "  runStrategy: " + (VMS.get(key) ? "Always" : "Halted") + "\n"
                    + (vm.equals("guest") ? "" : "  memory: 64MiB\n"));
        }
        for (String key : VMS.keySet()) {
            VmStatus s = awaitPhase(key, VMS.get(key) ? Phase.Running : Phase.Stopped);
            assertEquals("b2", s.blade(), key);
        }
    }

    @AfterAll
    static void tearDown() throws Exception {
        stopController();
        for (String uri : URIS.values()) {
            for (String name : Commands.run(List.of("virsh", "-q", "-c", uri, "list", "--all", "--name")).output()
                    .split("\n")) {
                if (name.strip().startsWith("ievpool")) {
                    Commands.run(List.of("virsh", "-q", "-c", uri, "destroy", name.strip()));
                    Commands.run(List.of("virsh", "-q", "-c", uri, "undefine", name.strip()));
                }
            }
        }
        HOST.deleteUsers();
    }

    static String blade(String name, String extra) {
        return "  - {name: " + name + ", uri: \"" + URIS.get(name) + "\", capacity: {vcpus: 32, memory: 4GiB}"
                + (extra.isEmpty() ? "" : ", " + extra) + "}\n";
    }

    /** Writes the config as an admin's editor would: a new file renamed over the old. */
    static void writeConfig(String blades, String extra) throws IOException {
        Path next = base.resolve(".controller.yaml.new");
        Files.writeString(next, "users:\n  directories: " + base.resolve("home") + "/*/ie-virsh\n  minUid: 1000\n"
                + "images:\n  inspection: off\n  root: " + base.resolve("images") + "\n"
                + "templates: " + base.resolve("templates") + "\n"
                + "blades:\n" + blades + "lockManager: lockd\nmigration: {parallel: 2, unsafe: true, timeout: 2m}\n"
                + "bladeDown: {action: restartElsewhere, after: 10s}\n"
                + "console: {socket: " + base.resolve("console.sock") + "}\n"
                + "http: {listen: \"127.0.0.1:" + httpPort + "\"}\nresync: 5s\nstopGracePeriod: 10s\n" + extra);
        Files.move(next, configFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    static void startController() throws Exception {
        controller = new ProcessBuilder("java", "-jar", System.getProperty("ievirsh.jar"), "controller", "--config",
                configFile.toString()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(LOG.toFile())).start();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .until(() -> http("/healthz").contains("ok"));
    }

    static void stopController() throws InterruptedException {
        if (controller != null && controller.isAlive()) {
            controller.destroy();
            controller.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    static String http(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    static Path dir(String user) {
        return base.resolve("home").resolve(user).resolve("ie-virsh");
    }

    static VmStatus status(String key) {
        return Statuses.read(dir(key.substring(0, key.indexOf('/'))), key.substring(key.indexOf('/') + 1))
                .orElse(null);
    }

    static VmStatus awaitPhase(String key, Phase phase) {
        return Statuses.awaitPhase(dir(key.substring(0, key.indexOf('/'))), key.substring(key.indexOf('/') + 1),
                phase, WAIT);
    }

    static String domain(String key) {
        return key.replace('/', '-');
    }

    /** The blades that have a domain of {@code key} (with its state). */
    static Map<String, String> where(String key) {
        Map<String, String> found = new HashMap<>();
        URIS.forEach((blade, uri) -> {
            Commands.Result r = Commands.run(List.of("virsh", "-q", "-c", uri, "domstate", domain(key)));
            if (r.code() == 0) {
                found.put(blade, r.output().strip());
            }
        });
        return found;
    }

    /** The real guest's uptime in seconds, asked of its agent (guest-exec of cat /proc/uptime). */
    static double uptime(String blade) {
        String uri = URIS.get(blade);
        String started = Commands.ok("virsh", "-q", "-c", uri, "qemu-agent-command", domain(ANN + "/guest"),
                "{\"execute\":\"guest-exec\",\"arguments\":{\"path\":\"/bin/cat\",\"arg\":[\"/proc/uptime\"],"
                        + "\"capture-output\":true}}");
        Matcher pid = Pattern.compile("\"pid\":(\\d+)").matcher(started);
        assertTrue(pid.find(), started);
        for (int i = 0; i < 50; i++) {
            String status = Commands.ok("virsh", "-q", "-c", uri, "qemu-agent-command", domain(ANN + "/guest"),
                    "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":" + pid.group(1) + "}}");
            Matcher out = Pattern.compile("\"out-data\":\"([^\"]*)\"").matcher(status);
            if (out.find()) {
                String text = new String(Base64.getDecoder().decode(out.group(1)));
                return Double.parseDouble(text.split(" ")[0]);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        throw new AssertionError("the guest agent gave no uptime");
    }

    @Test
    @Order(1)
    void theLockEngineHoldsALeaseForEveryRunningDiskAndRefusesASecondQemu() throws Exception {
        // lockd's leases: one file per disk in the shared lockspace, locked while its VM runs.
        String locks = Files.readString(Path.of("/proc/locks"));
        long held = 0;
        try (var leases = Files.list(LOCKSPACE)) {
            for (Path lease : leases.toList()) {
                long inode = (Long) Files.getAttribute(lease, "unix:ino");
                held += locks.contains(":" + inode + " ") ? 1 : 0;
            }
        }
        assertTrue(held >= 6, "a held lease per running disk, found " + held);

        // The same disk started outside the controller on the other blade: s1 cannot start.
        Path image = base.resolve("images").resolve(ANN).resolve("s1.qcow2");
        Path outside = Files.writeString(tmp.resolve("outside.xml"), "<domain type='kvm'><name>ievoutside</name>"
                + "<memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os>"
                // as root, and without the DAC driver's chown of the student's image to root
                + "<seclabel type='static' model='dac' relabel='no'><label>+0:+0</label></seclabel><devices>"
                + "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='" + image + "'/>"
                + "<target dev='vda' bus='virtio'/></disk></devices></domain>");
        Commands.ok("virsh", "-q", "-c", URIS.get("b3"), "create", outside.toString());
        try {
            Host.write(dir(ANN).resolve("s1.yaml"), ANN, Files.readString(dir(ANN).resolve("s1.yaml"))
                    .replace("Halted", "Always"));
            VmStatus locked = awaitPhase(ANN + "/s1", Phase.Error);
            assertEquals("ImageLocked", locked.condition(Condition.READY).reason(), locked.message());
            assertTrue(locked.message().contains("the image is in use by another QEMU"), locked.message());
            // Never running while the other QEMU has the disk (paused for an instant while a retry starts it).
            assertNotEquals("running", where(ANN + "/s1").get("b2"));
        } finally {
            Commands.run(List.of("virsh", "-q", "-c", URIS.get("b3"), "destroy", "ievoutside"));
        }
        awaitPhase(ANN + "/s1", Phase.Running);
        Host.write(dir(ANN).resolve("s1.yaml"), ANN, Files.readString(dir(ANN).resolve("s1.yaml"))
                .replace("Always", "Halted"));
        awaitPhase(ANN + "/s1", Phase.Stopped);
    }

    @Test
    @Order(2)
    void aBadConfigEditChangesNothing() throws Exception {
        String before = Files.readString(configFile);
        Files.writeString(base.resolve(".bad"), before.replace("lockManager: lockd", "lockManager: nfs"));
        Files.move(base.resolve(".bad"), configFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        await().atMost(Duration.ofSeconds(30)).until(() -> http("/metrics")
                .contains("ievirsh_config_reload_failures_total 1.0"));
        Thread.sleep(1000);
        for (String key : VMS.keySet()) {
            assertEquals("b2", status(key).blade(), key);
        }
        writeConfig(blade("b2", "") + blade("b3", "schedulable: false"), "");
    }

    @Test
    @Order(3)
    void drainingABladeMovesEveryVmLiveAndTheGuestKeepsRunning() throws Exception {
        // The guest has booted once its agent answers.
        double uptimeBefore = await().atMost(WAIT).ignoreExceptions().until(() -> uptime("b2"), u -> u > 0);
        writeConfig(blade("b2", "drain: true") + blade("b3", ""), "");
        for (String key : VMS.keySet()) {
            await().atMost(WAIT).until(() -> "b3".equals(status(key).blade())
                    && status(key).phase() == (VMS.get(key) ? Phase.Running : Phase.Stopped));
            assertEquals(Map.of("b3", VMS.get(key) ? "running" : "shut off"), where(key), key + ": on b3 only");
            assertEquals("True", status(key).condition(Condition.ADMITTED).status(), key);
        }
        double uptimeAfter = uptime("b3");
        assertTrue(uptimeAfter > uptimeBefore, "the guest's uptime went on: " + uptimeBefore + " -> " + uptimeAfter);
        String metrics = http("/metrics");
        assertTrue(metrics.contains("ievirsh_migrations_total{result=\"succeeded\"} 8.0"), metrics);
        assertTrue(metrics.contains("ievirsh_blade_draining{blade=\"b2\"} 0.0"), metrics);
    }

    @Test
    @Order(4)
    void aVmWithNowhereToGoStaysAndSaysSo() throws Exception {
        // b3 drains back to b2, which has room for the small VMs only, not for the guest's 192 MiB.
        writeConfig(blade("b2", "").replace("memory: 4GiB", "memory: 100MiB") + blade("b3", "drain: true"), "");
        await().atMost(WAIT).until(() -> status(ANN + "/guest").message().contains("blade b3 is draining, but no"
                + " other blade has room"));
        assertEquals(Phase.Running, status(ANN + "/guest").phase());
        assertEquals(Map.of("b3", "running"), where(ANN + "/guest"), "it stays, running");
        writeConfig(blade("b2", "schedulable: false") + blade("b3", ""), "");
    }

    @Test
    @Order(5)
    void killedInTheMiddleOfADrainItConvergesWithOneDomainPerVm() throws Exception {
        for (String key : VMS.keySet()) {
            await().atMost(WAIT).until(() -> where(key).size() == 1);
        }
        writeConfig(blade("b2", "") + blade("b3", "drain: true"), "");
        await().atMost(WAIT).until(() -> VMS.keySet().stream().anyMatch(k -> status(k).phase() == Phase.Migrating));
        controller.destroyForcibly();
        controller.waitFor(30, TimeUnit.SECONDS);
        startController();
        for (String key : VMS.keySet()) {
            await().atMost(WAIT).until(() -> where(key).size() == 1 && "b2".equals(status(key).blade())
                    && status(key).phase() == (VMS.get(key) ? Phase.Running : Phase.Stopped));
        }
    }

    @Test
    @Order(6)
    void aDeadBladesVmsRestartElsewhereAndItsStaleDefinitionsGoWhenItReturns() throws Exception {
        writeConfig(blade("b2", "") + blade("b3", ""), "");
        List<String> running = new ArrayList<>();
        VMS.forEach((k, r) -> {
            if (r) {
                running.add(k);
            }
        });
        Commands.ok("bash", org.ievirsh.support.Repo.path(".ci/blades.sh").toString(), "kill", "ievb2");
        try {
            for (String key : running) {
                await().atMost(WAIT).until(() -> "b3".equals(status(key).blade()) && status(key).phase() == Phase.Running);
                assertTrue(status(key).message() != null, key);
            }
        } finally {
            Commands.ok("bash", org.ievirsh.support.Repo.path(".ci/blades.sh").toString(), "start", "ievb2", "2");
        }
        // The running ones run on b3 alone (their stale definitions on b2 removed); a stopped one was never made
        // again elsewhere: it waited for its blade, and is there, alone, shut off.
        for (String key : VMS.keySet()) {
            await().atMost(WAIT).until(() -> where(key).equals(VMS.get(key) ? Map.of("b3", "running")
                    : Map.of("b2", "shut off")));
            assertEquals(VMS.get(key) ? Phase.Running : Phase.Stopped, status(key).phase(), key);
        }
    }
}
