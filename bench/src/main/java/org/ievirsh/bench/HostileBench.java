package org.ievirsh.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.controller.ClassArchive;
import org.ievirsh.image.EmptyQcow2;

/**
 * HostileBench is issue 35's red team against the controller as the unit
 * runs it (its own JVM, Serial GC, 512 MiB of heap), on a real blade over
 * TCP: a victim saves a VM file and waits for it to run, first in quiet, then
 * during each attack of another student (run as that student, by
 * {@link Attacker}); each attack lasts while the victim's VM starts and stops
 * {@code runs} times. It prints the victim's start times beside the quiet
 * ones, and checks throughout that the controller lives, that its connection
 * to the blade is never lost, that its HTTP answers another local user and
 * that the victim's console opens.
 */
final class HostileBench {
    private static final String VICTIM = "ievhvictim";
    private static final String MALLORY = "ievhmallory";
    private static final int VICTIM_UID = 41751;
    private static final int MALLORY_UID = 41752;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final Path root;
    private final String blade;
    private final int port;
    private Process controller;
    private int victimVms;

    private HostileBench(Path root, String blade, int port) {
        this.root = root;
        this.blade = blade;
        this.port = port;
    }

    static int run(String blade, Path guest, int runs, PrintStream out) throws Exception {
        Path root = Files.createTempDirectory("ie-virsh-hostile-");
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        HostileBench bench = new HostileBench(root, blade, port);
        try {
            return bench.measure(guest, runs, out);
        } finally {
            bench.cleanUp();
        }
    }

    private int measure(Path guest, int runs, PrintStream out) throws Exception {
        world(guest);
        // -Dievirsh.controllerJar runs another build's controller against the same attacks (an earlier one's
        // figures, in the same kind of run).
        controller = new ProcessBuilder(ClassArchive.javaOfThisProgram(), "-XX:+UseSerialGC", "-Xmx512m",
                "-XX:TieredStopAtLevel=1", "-jar", System.getProperty("ievirsh.controllerJar",
                ClassArchive.jarOfThisProgram()), "controller", "--config",
                root.resolve("controller.yaml").toString()).redirectErrorStream(true)
                .redirectOutput(root.resolve("controller.log").toFile()).start();
        awaitReady();
        List<String> broken = new ArrayList<>();
        // Every VM of the attacks runs during the quiet runs too (the real guest has booted): only the attack differs.
        save(VICTIM, "c", "tiny", "c.qcow2", "Always");  // the victim's console is opened during each attack
        save(MALLORY, "blank", "tiny", "blank.qcow2", "Always");
        save(MALLORY, "loud", "guest", "loud.qcow2", "Always");
        for (String[] vm : new String[][] {{VICTIM, "c"}, {MALLORY, "blank"}, {MALLORY, "loud"}}) {
            if (!awaitPhase(vm[0], vm[1], Phase.Running, 120)) {
                throw new IllegalStateException(vm[0] + "/" + vm[1] + " did not run; see " + root);
            }
        }
        Thread.sleep(20_000);
        Figures quiet = victimStarts(runs, broken, "quiet");
        out.printf("hostile  quiet: the victim's VM from its file saved to Running: median %.0f ms (%d runs)%n",
                quiet.median(), quiet.count());
        String socket = root.resolve("console.sock").toString();
        double worst = 0;
        String[][] attacks = {
            {"a paste of 512 KiB into the console of a guest that reads nothing", "paste", socket, "blank", "524288"},
            {"a guest that floods its console while its student reads nothing", "unread", socket, "loud",
                "while :; do cat /proc/cpuinfo; done"},
            {"CONSOLE own FORCE from 16 threads", "force", socket, "blank", "16"},
            {"300 idle connections to the console socket", "slowloris", socket, "300"},
            {"200 keep-alive HTTP connections asking /healthz", "http", Integer.toString(port), "200"},
        };
        String only = System.getProperty("ievirsh.attacks", "");
        for (String[] attack : attacks) {
            if (!only.isEmpty() && !List.of(only.split(",")).contains(attack[1])) {
                continue;
            }
            double errorsBefore = bladeErrors();
            Process attacker = asUser(MALLORY_UID, java(List.of(attack).subList(1, attack.length)));
            try {
                Thread.sleep(attack[1].equals("unread") ? 20_000 : 3_000);  // the guest's shell, the flood under way
                long cpu0 = cpuTicks(controller.pid());
                long attackerCpu0 = cpuTicks(attacker.pid());
                long wall0 = System.nanoTime();
                Figures during = victimStarts(runs, broken, attack[0]);
                double seconds = (System.nanoTime() - wall0) / 1e9;
                double controllerCpu = (cpuTicks(controller.pid()) - cpu0) / 100.0 / seconds * 100;
                double attackerCpu = (cpuTicks(attacker.pid()) - attackerCpu0) / 100.0 / seconds * 100;
                checks(broken, attack[0]);
                double errorsAfter = bladeErrors();
                if (errorsAfter < 0) {
                    broken.add(attack[0] + ": /metrics did not answer root");
                } else if (errorsAfter != errorsBefore) {
                    broken.add(attack[0] + ": the controller lost its connection to the blade");
                }
                if (!attacker.isAlive()) {
                    broken.add(attack[0] + ": the attack ended early (" + attacker.exitValue() + ")");
                }
                double ratio = during.median() / quiet.median();
                worst = Math.max(worst, ratio);
                out.printf("hostile  %s: median %.0f ms (%.2fx quiet); controller RSS %d MiB, CPU %.0f%% of a core"
                        + " (the attack's own process %.0f%%)%n", attack[0], during.median(), ratio, rssMiB(),
                        controllerCpu, attackerCpu);
            } finally {
                attacker.destroyForcibly();
                attacker.waitFor(10, TimeUnit.SECONDS);
            }
        }
        broken.forEach(b -> out.println("BROKEN   " + b));
        return Promise.all(Promise.report(out, "the victim's start within 1.5x its quiet time during every attack"
                        + String.format(" (worst %.2fx)", worst), worst <= 1.5),
                Promise.report(out, "the controller alive, its blade connection kept, HTTP and the console answering"
                        + " during every attack (" + broken.size() + " broken)", broken.isEmpty()));
    }

    private void world(Path guest) throws IOException, InterruptedException {
        Path homes = Files.createDirectories(root.resolve("home"));
        for (String[] user : new String[][] {{VICTIM, Integer.toString(VICTIM_UID)},
                {MALLORY, Integer.toString(MALLORY_UID)}}) {
            sh("userdel", user[0]);
            sh("useradd", "-M", "-u", user[1], "-d", homes.resolve(user[0]).toString(), "-s", "/bin/sh", user[0]);
            Files.createDirectories(homes.resolve(user[0]).resolve("ie-virsh"));
            sh("chown", "-R", user[0] + ":" + user[0], homes.resolve(user[0]).toString());
            Files.createDirectories(root.resolve("images").resolve(user[0]));
        }
        image(VICTIM, "v.qcow2");
        image(VICTIM, "c.qcow2");
        image(MALLORY, "blank.qcow2");
        image(MALLORY, "loud.qcow2");
        Path templates = Files.createDirectories(root.resolve("templates"));
        Files.writeString(templates.resolve("tiny.xml"), BenchTemplates.kvmWithoutNetwork());
        Files.writeString(templates.resolve("guest.xml"), BenchTemplates.kvmWithoutNetwork()
                .replace("type='kvm'", "type='qemu'").replace("<boot dev='hd'/>", "<kernel>" + guest.resolve("vmlinuz")
                        + "</kernel><initrd>" + guest.resolve("initrd.img") + "</initrd><cmdline>console=ttyS0"
                        + "</cmdline>").replace("<memory unit='MiB'>128</memory>", "<memory unit='MiB'>192</memory>"));
        Files.writeString(root.resolve("controller.yaml"), "users:\n  directories: " + homes + "/*/ie-virsh\n"
                + "  minUid: 1000\nimages:\n  inspection: off\n  root: " + root.resolve("images") + "\n"
                + "templates: " + templates + "\ndefaultTemplate: tiny\n"
                + "blades:\n  - {name: b, uri: \"" + blade + "\", capacity: {vcpus: 64, memory: 64GiB}}\n"
                + "console: {socket: " + root.resolve("console.sock") + ", maxSessionsPerUser: 4}\n"
                + "http: {listen: \"127.0.0.1:" + port + "\"}\nresync: 5s\nstopGracePeriod: 1s\n");
    }

    private void image(String user, String name) throws IOException, InterruptedException {
        Path image = root.resolve("images").resolve(user).resolve(name);
        Files.write(image, EmptyQcow2.of(64L << 20));
        sh("chown", user + ":" + user, image.toString(), image.getParent().toString());
        sh("chmod", "600", image.toString());
    }

    /**
     * Saves a new VM file of the victim's {@code runs} times, each after the
     * last one's file was removed and its domain gone (a new name each time:
     * one VM started again and again is held back by the controller's
     * restart back-off); the times from the save to Running, in ms.
     */
    private Figures victimStarts(int runs, List<String> broken, String during) throws Exception {
        Figures starts = new Figures();
        for (int i = 0; i < runs; i++) {
            String vm = "v" + (++victimVms);
            long t0 = System.nanoTime();
            save(VICTIM, vm, "tiny", "v.qcow2", "Always");
            if (!awaitPhase(VICTIM, vm, Phase.Running, 60)) {
                broken.add(during + ": the victim's VM did not run within 60 s");
                return starts;
            }
            starts.add((System.nanoTime() - t0) / 1e6);
            Path dir = root.resolve("home").resolve(VICTIM).resolve("ie-virsh");
            Files.delete(dir.resolve(vm + ".yaml"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (Files.exists(dir.resolve(".status").resolve(vm + ".yaml")) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            if (Files.exists(dir.resolve(".status").resolve(vm + ".yaml"))) {
                broken.add(during + ": the victim's removed VM was not gone within 60 s");
                return starts;
            }
        }
        return starts;
    }

    /** The controller alive, /metrics answering root and /healthz another local user, the victim's console. */
    private void checks(List<String> broken, String during) throws Exception {
        if (!controller.isAlive()) {
            broken.add(during + ": the controller exited (" + controller.exitValue() + ")");
            return;
        }
        if (get("/metrics").isEmpty()) {
            broken.add(during + ": /metrics did not answer");
        }
        Process other = asUser(2, List.of("bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/" + port
                + " && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && head -1 <&3"));
        String answer = new String(other.getInputStream().readAllBytes()).strip();
        if (!answer.startsWith("HTTP/1.0 200")) {
            broken.add(during + ": /healthz did not answer another local user (" + answer + ")");
        }
        Process probe = asUser(VICTIM_UID, java(List.of("probe", root.resolve("console.sock").toString(), "c")));
        String console = new String(probe.getInputStream().readAllBytes()).strip();
        if (!probe.waitFor(30, TimeUnit.SECONDS) || probe.exitValue() != 0) {
            broken.add(during + ": the victim's console did not open (" + console + ")");
        }
    }

    private void save(String user, String vm, String template, String image, String strategy) throws Exception {
        Path dir = root.resolve("home").resolve(user).resolve("ie-virsh");
        Path temporary = dir.resolve("." + vm + ".tmp");
        Files.writeString(temporary, "apiVersion: ie-virsh/v1\nkind: VirtualMachine\nspec:\n  template: " + template
                + "\n  image: " + image + "\n  runStrategy: " + strategy + "\n");
        sh("chown", user + ":" + user, temporary.toString());
        Files.move(temporary, dir.resolve(vm + ".yaml"), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private boolean awaitPhase(String user, String vm, Phase phase, int seconds) throws Exception {
        Path file = root.resolve("home").resolve(user).resolve("ie-virsh/.status").resolve(vm + ".yaml");
        Path spec = root.resolve("home").resolve(user).resolve("ie-virsh").resolve(vm + ".yaml");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (Files.exists(file)) {
                var status = org.ievirsh.status.StatusFiles.fromYaml(vm + ".yaml", Files.readAllBytes(file));
                if (status.isPresent() && status.get().phase() == phase && status.get().observedSpecHash().equals(
                        org.ievirsh.api.v1.VirtualMachineFile.hash(Files.readAllBytes(spec)))) {
                    return true;
                }
            }
            Thread.sleep(5);
        }
        return false;
    }

    private void awaitReady() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline && !get("/readyz").startsWith("ready")) {
            if (!controller.isAlive()) {
                throw new IllegalStateException("the controller exited; see " + root.resolve("controller.log"));
            }
            Thread.sleep(50);
        }
    }

    private static final Pattern BLADE_ERRORS = Pattern.compile(
            "(?m)^ievirsh_blade_connection_errors_total\\{blade=\"b\"} (\\S+)$");

    private double bladeErrors() throws Exception {
        Matcher m = BLADE_ERRORS.matcher(get("/metrics"));
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }

    private String get(String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException e) {
            if (!path.equals("/readyz")) {  // before the controller listens, it is refused
                System.err.println("hostile: GET " + path + ": " + e);
            }
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    /** The controller's resident memory in MiB; -1 once it is gone. */
    private long rssMiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(controller.pid()), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
                }
            }
        } catch (IOException e) {
            // exited
        }
        return -1;
    }

    /** CPU ticks (1/100 s) of process {@code pid} and its threads so far, user and system; 0 once it is gone. */
    private static long cpuTicks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    private static List<String> java(List<String> args) {
        List<String> command = new ArrayList<>(List.of(ClassArchive.javaOfThisProgram(), "-Xmx64m", "-cp",
                ClassArchive.jarOfThisProgram(), Attacker.class.getName()));
        command.addAll(args);
        return command;
    }

    private static Process asUser(int uid, List<String> command) throws IOException {
        List<String> full = new ArrayList<>(List.of("setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups"));
        full.addAll(command);
        return new ProcessBuilder(full).redirectErrorStream(true).start();
    }

    private static void sh(String... command) throws IOException, InterruptedException {
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
                .waitFor();
    }

    private void cleanUp() throws Exception {
        if (controller != null) {
            controller.destroyForcibly();
            controller.waitFor(30, TimeUnit.SECONDS);
        }
        List<String> names = new ArrayList<>(List.of(VICTIM + "-c", MALLORY + "-blank", MALLORY + "-loud"));
        for (int i = 1; i <= victimVms; i++) {
            names.add(VICTIM + "-v" + i);
        }
        for (String name : names) {
            sh("virsh", "-q", "-c", blade, "destroy", name);
            sh("virsh", "-q", "-c", blade, "undefine", name);
        }
        sh("userdel", VICTIM);
        sh("userdel", MALLORY);
        if (!Boolean.getBoolean("ievirsh.keep")) {
            sh("rm", "-rf", root.toString());
        }
    }
}
