package org.ievirsh.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * BladesIT places VMs on two real hypervisors of this machine (the system
 * libvirtd, and a second libvirtd in its own namespaces that `.ci/blades.sh`
 * starts, reached over TCP; both KVM, sharing /tmp like a SAN), and checks
 * that a blade that hangs (a proxy that stops answering) holds up nobody else.
 */
@EnabledIfSystemProperty(named = "ievirsh.e2e", matches = "true")
class BladesIT {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Host HOST = new Host();
    private static final List<String> USERS = List.of("ievb1", "ievb2", "ievb3");

    @TempDir
    static Path tmp;
    Controller controller;

    @BeforeAll
    static void users() throws IOException {
        Host.openToAll(tmp);
        Path homes = Files.createDirectories(tmp.resolve("home"));
        for (int i = 0; i < USERS.size(); i++) {
            HOST.user(USERS.get(i), 41301 + i, homes);
        }
        Path templates = Files.createDirectories(tmp.resolve("templates"));
        String type = Host.domainType();
        Files.writeString(templates.resolve("tiny.xml"), "<domain type='" + type + "'><memory unit='MiB'>256</memory>"
                + "<vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>"
                + "<features><acpi/></features><devices><disk type='file' device='disk'>"
                + "<driver name='qemu' type='qcow2'/><target dev='vda' bus='virtio'/></disk><serial type='pty'/>"
                + "</devices></domain>");
        Files.writeString(tmp.resolve("node.xml"), "<node><cpu><nodes>1</nodes><sockets>1</sockets><cores>8</cores>"
                + "<threads>1</threads><active>8</active><mhz>2000</mhz><model>t</model></cpu>"
                + "<memory>8388608</memory></node>");
    }

    @AfterAll
    static void removeUsers() {
        HOST.deleteUsers();
    }

    @AfterEach
    void stop() throws IOException {
        if (controller != null) {
            controller.close();
        }
        Host.removeDomains("ievb");
        removeSessionDomains();
        for (String user : USERS) {
            try (var files = Files.list(dir(user))) {
                for (Path f : files.toList()) {
                    Commands.ok("rm", "-rf", f.toString());
                }
            }
        }
    }

    /** The second blade's URI, which ./dev test sets up. */
    private static String blade2() {
        String uri = System.getProperty("ievirsh.blade2", "");
        if (uri.isEmpty()) {
            throw new AssertionError("no second blade: run the tests with ./dev test (it starts one)");
        }
        return uri;
    }

    private static void removeSessionDomains() {
        for (String name : Commands.run(List.of("virsh", "-q", "-c", blade2(), "list", "--all", "--name"))
                .output().split("\n")) {
            if (name.strip().startsWith("ievb")) {
                Commands.run(List.of("virsh", "-q", "-c", blade2(), "destroy", name.strip()));
                Commands.run(List.of("virsh", "-q", "-c", blade2(), "undefine", name.strip()));
            }
        }
    }

    private void start(String blades) {
        String yaml = "users:\n  directories: " + tmp.resolve("home") + "/*/ie-virsh\n  minUid: 1000\n"
                + "images:\n  inspection: off\n  root: " + tmp.resolve("images") + "\ntemplates: " + tmp.resolve("templates") + "\n"
                + "defaultTemplate: tiny\nblades:\n" + blades
                + "http: {listen: \"127.0.0.1:0\"}\nresync: 5s\nstopGracePeriod: 2s\n";
        controller = new Controller(ControllerConfig.parse("c.yaml", yaml.getBytes(StandardCharsets.UTF_8)).orThrow(),
                new NssOwners(), b -> new LibvirtBladeLink(b.name(), b.uri()), new Metrics(new SimpleMeterRegistry()),
                Clock.systemUTC());
        controller.start();
    }

    static Path dir(String user) {
        return tmp.resolve("home").resolve(user).resolve("ie-virsh");
    }

    static void vm(String user, String name, String strategy) throws IOException {
        Path images = tmp.resolve("images").resolve(user);
        if (!Files.exists(images.resolve(name + ".qcow2"))) {
            Host.image(images, user, name + ".qcow2");
        }
        Host.write(dir(user).resolve(name + ".yaml"), user, "apiVersion: ie-virsh/v1\nkind: VirtualMachine\nspec:\n"
                + "  image: " + name + ".qcow2\n  runStrategy: " + strategy + "\n");
    }

    static Optional<VmStatus> status(String user, String vm) {
        return Statuses.read(dir(user), vm);
    }

    static VmStatus awaitPhase(String user, String vm, Phase phase, Duration within) {
        return Statuses.awaitPhase(dir(user), vm, phase, within);
    }

    @Test
    void vmsArePlacedOnBothRealHypervisors() throws Exception {
        start("  - {name: system, uri: \"qemu:///system\", capacity: {vcpus: 8, memory: 1GiB}}\n"
                + "  - {name: blade2, uri: \"" + blade2() + "\", capacity: {vcpus: 8, memory: 1GiB}}\n");
        Map<String, Integer> perBlade = new HashMap<>();
        for (int i = 0; i < 4; i++) {
            vm(USERS.get(0), "v" + i, "Always");
        }
        for (int i = 0; i < 4; i++) {
            perBlade.merge(awaitPhase(USERS.get(0), "v" + i, Phase.Running, WAIT).blade(), 1, Integer::sum);
        }
        assertEquals(Map.of("system", 2, "blade2", 2), perBlade);
        long onSession = Arrays.stream(Commands.ok("virsh", "-q", "-c", blade2(), "list", "--name")
                .split("\n")).filter(n -> n.strip().startsWith(USERS.get(0))).count();
        long onSystem = Arrays.stream(Host.virsh("list", "--name").split("\n"))
                .filter(n -> n.strip().startsWith(USERS.get(0))).count();
        assertEquals(2, onSession);
        assertEquals(2, onSystem);
    }

    @Test
    void aBladeThatHangsHoldsUpNobodyElse() throws Exception {
        Path socket = tmp.resolve("proxy.sock");
        try (FreezableProxy proxy = new FreezableProxy(socket, Path.of("/run/libvirt/libvirt-sock"))) {
            // Placement takes the blade with the most free memory among those with room: the first VM (1 vCPU)
            // goes to the blade that will hang (9 GiB > t1's 8 GiB), which then has no vCPU left, so the second
            // and the third (while the other hangs) go to t1, and no call is ever made to the frozen blade.
            start("  - {name: hanging, uri: \"qemu+unix:///system?socket=" + socket + "\", capacity: {vcpus: 1,"
                    + " memory: 9GiB}}\n  - {name: t1, uri: \"test://" + tmp.resolve("node.xml") + "\"}\n");
            vm(USERS.get(0), "web", "Always");
            assertEquals("hanging", awaitPhase(USERS.get(0), "web", Phase.Running, WAIT).blade());
            vm(USERS.get(1), "db", "Always");
            await().atMost(WAIT).until(() -> status(USERS.get(1), "db").map(s -> s.phase() == Phase.Running)
                    .orElse(false));
            assertEquals("t1", status(USERS.get(1), "db").orElseThrow().blade());

            proxy.freeze(true);
            long frozenAt = System.nanoTime();
            vm(USERS.get(2), "api", "Always");
            VmStatus api = awaitPhase(USERS.get(2), "api", Phase.Running, Duration.ofSeconds(30));
            assertEquals("t1", api.blade());
            System.out.println("BENCH hung-blade: a new VM ran on t1 " + Duration.ofNanos(System.nanoTime()
                    - frozenAt).toMillis() + " ms after the other blade stopped answering");
            awaitPhase(USERS.get(0), "web", Phase.Unknown, Duration.ofSeconds(30));
            // A Halted VM on the healthy blade stops while the other blade hangs.
            vm(USERS.get(1), "db", "Halted");
            awaitPhase(USERS.get(1), "db", Phase.Stopped, Duration.ofSeconds(15));

            proxy.freeze(false);
            awaitPhase(USERS.get(0), "web", Phase.Running, WAIT);
            assertTrue(controller.ready());
        }
    }
}
