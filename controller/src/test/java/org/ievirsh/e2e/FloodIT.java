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
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.yaml.SafeYaml;
import org.ievirsh.support.Commands;
import org.ievirsh.support.Statuses;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * FloodIT runs the controller as the unit file runs it (its own process,
 * Serial GC, 512 MiB of heap) while one student floods their directory with
 * ten thousand legal VM files of 64 KiB each, and checks what the security
 * issue measured: the controller stays up and healthy (no OutOfMemoryError,
 * {@code /healthz} answers all along), the flood is reported once, and a
 * neighbour's new VMs still run. The neighbour's create-to-running times,
 * quiet and during the flood, are printed.
 */
@EnabledIfSystemProperty(named = "ievirsh.e2e", matches = "true")
class FloodIT {
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final String FLOODER = "ievflood";
    private static final String NEIGHBOUR = "ievquiet";
    private static final int FILES = 10_000;
    private static final Host HOST = new Host();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path tmp;
    static Process controller;
    static int port;

    @BeforeAll
    static void start() throws Exception {
        Host.openToAll(tmp);
        Path homes = Files.createDirectories(tmp.resolve("home"));
        HOST.user(FLOODER, 41601, homes);
        HOST.user(NEIGHBOUR, 41602, homes);
        Host.image(tmp.resolve("images").resolve(FLOODER), FLOODER, "f.qcow2");
        Host.templates(tmp.resolve("templates"));
        Path node = Files.writeString(tmp.resolve("node.xml"), "<node><cpu><nodes>1</nodes><sockets>1</sockets>"
                + "<cores>64</cores><threads>1</threads><active>64</active><mhz>2000</mhz><model>t</model></cpu>"
                + "<memory>268435456</memory></node>");
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Path config = Files.writeString(tmp.resolve("controller.yaml"), "users:\n  directories: " + homes
                + "/*/ie-virsh\n  minUid: 1000\nimages:\n  inspection: off\n  root: " + tmp.resolve("images") + "\n"
                + "templates: " + tmp.resolve("templates") + "\n"
                + "blades:\n  - {name: t1, uri: \"test://" + node + "\"}\n"
                + "quota: {users: {" + NEIGHBOUR + ": {vms: 10}}}\n"
                + "http: {listen: \"127.0.0.1:" + port + "\"}\nresync: 5s\nstopGracePeriod: 2s\n"
                + "console: {socket: " + tmp.resolve("console.sock") + "}\n");
        controller = new ProcessBuilder("java", "-XX:+UseSerialGC", "-Xmx512m", "-jar", System.getProperty("ievirsh.jar"),
                "controller", "--config", config.toString()).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("controller.log").toFile()).start();
        await().atMost(WAIT).ignoreExceptions().until(() -> get("/readyz") == 200);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (controller != null) {
            controller.destroy();
            controller.waitFor();
        }
        HOST.deleteUsers();
    }

    private static int get(String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static Path dir(String user) {
        return tmp.resolve("home").resolve(user).resolve("ie-virsh");
    }

    /** The neighbour saves a file (Halted) for a new image; how long until its VM is defined (Stopped). */
    private static Duration neighbourVm(String name) throws Exception {
        Host.image(tmp.resolve("images").resolve(NEIGHBOUR), NEIGHBOUR, name + ".qcow2");
        long started = System.nanoTime();
        Host.write(dir(NEIGHBOUR).resolve(name + ".yaml"), NEIGHBOUR, "apiVersion: ie-virsh/v1\nkind: VirtualMachine\n"
                + "spec:\n  template: small\n  image: " + name + ".qcow2\n  runStrategy: Halted\n");
        Statuses.awaitPhase(dir(NEIGHBOUR), name, Phase.Stopped, WAIT);
        return Duration.ofNanos(System.nanoTime() - started);
    }

    /** A legal VM file of exactly 64 KiB: the spec, then comments up to the limit. */
    private static String legalFile() {
        StringBuilder text = new StringBuilder("apiVersion: ie-virsh/v1\nkind: VirtualMachine\nspec:\n  image: f.qcow2\n"
                + "  runStrategy: Halted\n");
        String line = "# " + "x".repeat(76) + "\n";
        while (text.length() + line.length() <= SafeYaml.MAX_BYTES) {
            text.append(line);
        }
        text.append("#".repeat(SafeYaml.MAX_BYTES - text.length() - 1)).append('\n');
        return text.toString();
    }

    @Test
    void tenThousandLegalFilesOfOneStudentLeaveTheControllerUpAndTheirNeighbourServed() throws Exception {
        Duration quiet = neighbourVm("before");

        // The files are made elsewhere, given to the student, then moved in: as a student uploading them would.
        Path staging = Files.createDirectories(tmp.resolve("staging"));
        String content = legalFile();
        assertEquals(SafeYaml.MAX_BYTES, content.length());
        for (int i = 0; i < FILES; i++) {
            Files.writeString(staging.resolve(String.format("f%05d.yaml", i)), content);
        }
        Commands.ok("chown", "-R", FLOODER + ":" + FLOODER, staging.toString());
        AtomicBoolean flooding = new AtomicBoolean(true);
        AtomicInteger unhealthy = new AtomicInteger();
        AtomicInteger checks = new AtomicInteger();
        Thread health = new Thread(() -> {
            while (flooding.get()) {
                try {
                    if (get("/healthz") != 200) {
                        unhealthy.incrementAndGet();
                    }
                } catch (IOException | InterruptedException e) {
                    unhealthy.incrementAndGet();
                }
                checks.incrementAndGet();
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        health.start();
        List<Duration> during = new ArrayList<>();
        try {
            for (int i = 0; i < FILES; i++) {
                String name = String.format("f%05d.yaml", i);
                Files.move(staging.resolve(name), dir(FLOODER).resolve(name), StandardCopyOption.ATOMIC_MOVE);
                if (i % 2500 == 1250) {
                    during.add(neighbourVm("during" + i));
                }
            }
            during.add(neighbourVm("after"));
            Statuses.awaitPhase(dir(FLOODER), "f00064", Phase.Invalid, WAIT);
        } finally {
            flooding.set(false);
            health.join();
        }
        System.out.println("FloodIT: a neighbour's new VM defined in " + quiet.toMillis() + " ms before the flood, "
                + during.stream().map(d -> d.toMillis() + " ms").toList() + " during and after it; /healthz asked "
                + checks.get() + " times, " + unhealthy.get() + " not answered 200");
        assertEquals(0, unhealthy.get(), "/healthz answered 200 all along");
        assertTrue(controller.isAlive(), "the controller is up");
        String log = Files.readString(tmp.resolve("controller.log"));
        assertTrue(!log.contains("OutOfMemoryError"), "no OutOfMemoryError");
        assertTrue(Statuses.read(dir(FLOODER), "f00064").orElseThrow().message()
                .contains("this directory has 10000 VM files, and at most 64 are read"));
        assertTrue(Statuses.read(dir(FLOODER), "f09999").isEmpty(), "the rest get no status of their own");
        assertEquals(1, log.split("only the first 64 are read", -1).length - 1, "the flood is logged once");
    }
}
