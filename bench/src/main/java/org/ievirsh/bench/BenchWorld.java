package org.ievirsh.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.image.EmptyQcow2;

/**
 * BenchWorld is a department made for one benchmark under a temporary
 * directory: a template, students' directories and images, and a config.
 */
final class BenchWorld implements AutoCloseable {
    private final Path root;

    BenchWorld(String templateXml) throws IOException {
        root = Files.createTempDirectory("ie-virsh-bench-");
        Files.createDirectories(root.resolve("templates"));
        Files.writeString(root.resolve("templates/bench.xml"), templateXml);
        Files.createDirectories(root.resolve("home"));
        Files.createDirectories(root.resolve("images"));
    }

    Path root() {
        return root;
    }

    Path dir(String user) {
        return root.resolve("home").resolve(user).resolve("ie-virsh");
    }

    /** Makes a student's directories and one image per VM name. */
    void student(String user, Iterable<String> vms) throws IOException {
        Files.createDirectories(dir(user));
        Path images = Files.createDirectories(root.resolve("images").resolve(user));
        byte[] empty = EmptyQcow2.of(64L << 20);
        for (String vm : vms) {
            Files.write(images.resolve(vm + ".qcow2"), empty);
        }
    }

    /** Writes a VM file the way an editor saves: a temporary file renamed over the name. */
    void save(String user, String vm, String runStrategy) throws IOException {
        Path temporary = dir(user).resolve("." + vm + ".swp");
        Files.writeString(temporary, "apiVersion: ie-virsh/v1\nkind: VirtualMachine\nspec:\n  template: bench\n"
                + "  image: " + vm + ".qcow2\n  runStrategy: " + runStrategy + "\n");
        Files.move(temporary, dir(user).resolve(vm + ".yaml"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** The status of {@code user}'s VM {@code vm} as its file says now; empty while there is none. */
    java.util.Optional<org.ievirsh.api.v1.VmStatus> status(String user, String vm) {
        try {
            Path file = dir(user).resolve(org.ievirsh.status.StatusFiles.DIRECTORY).resolve(vm + ".yaml");
            return Files.exists(file) ? org.ievirsh.status.StatusFiles.fromYaml(vm + ".yaml", Files.readAllBytes(file))
                    : java.util.Optional.empty();
        } catch (IOException e) {
            return java.util.Optional.empty();
        }
    }

    /** Waits, at most {@code seconds}, until the status of {@code user}'s {@code vm} passes {@code done}. */
    void await(String user, String vm, java.util.function.Predicate<org.ievirsh.api.v1.VmStatus> done, int seconds)
            throws InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (status(user, vm).map(done::test).orElse(false)) {
                return;
            }
            Thread.sleep(5);
        }
        throw new IllegalStateException(user + "/" + vm + ": the status did not change within " + seconds + " s ("
                + status(user, vm).map(s -> s.phase() + ": " + s.message()).orElse("none") + ")");
    }

    ControllerConfig config(String bladeUri, int minUid, String extra) {
        return ControllerConfig.parse("bench.yaml", configText(bladeUri, minUid, extra)
                .getBytes(StandardCharsets.UTF_8)).orThrow();
    }

    /** The config's text, as a file would hold it. */
    String configText(String bladeUri, int minUid, String extra) {
        return "users:\n  directories: " + root.resolve("home") + "/*/ie-virsh\n  minUid: " + minUid + "\n"
                + "images:\n  inspection: off\n  root: " + root.resolve("images") + "\n"
                + "templates: " + root.resolve("templates") + "\ndefaultTemplate: bench\n"
                + "quota:\n  default: {vms: 100, runningVms: 100, vcpus: 1000, memory: 1000GiB}\n"
                + "blades:\n  - {name: bench, uri: \"" + bladeUri + "\", capacity: {vcpus: 1000000, memory: 100000GiB}}\n"
                + "http: {listen: \"127.0.0.1:0\"}\nstopGracePeriod: 1s\n" + extra;
    }

    @Override
    public void close() throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Destroys and undefines the domains of libvirt's test driver (in this process) named {@code prefix}*. */
    static void removeTestDomains(String prefix) {
        try {
            org.libvirt.Connect connect = new org.libvirt.Connect("test:///default");
            for (org.libvirt.Domain d : connect.listAllDomains(0)) {
                if (d.getName().startsWith(prefix)) {
                    if (d.isActive() == 1) {
                        d.destroy();
                    }
                    d.undefine();
                }
                d.free();
            }
            connect.close();
        } catch (org.libvirt.LibvirtException e) {
            // The test driver's state goes with the process anyway.
        }
    }
}
