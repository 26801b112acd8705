package org.ievirsh.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.image.EmptyQcow2;

/**
 * DemoWorld is everything the demo needs, made under a temporary directory:
 * the project's templates and example VM files (shipped in the jar), three
 * students' directories and images, two fake blades for libvirt's test driver
 * (each its own host, from a node description), and a config pointing at
 * all of it. Nothing outside the temporary directory is touched.
 */
public final class DemoWorld implements AutoCloseable {
    /** USERS are the demo's students. */
    public static final List<String> USERS = List.of("alice", "bob", "carol");

    private final Path root;

    private DemoWorld(Path root) {
        this.root = root;
    }

    /** Makes a new world under a fresh temporary directory. */
    public static DemoWorld create() throws IOException {
        DemoWorld world = new DemoWorld(Files.createTempDirectory("ie-virsh-demo-"));
        world.build();
        return world;
    }

    public Path root() {
        return root;
    }

    /** The directory of {@code user}'s VM files. */
    public Path vmDirectory(String user) {
        return root.resolve("home").resolve(user).resolve("ie-virsh");
    }

    private void build() throws IOException {
        Path templates = Files.createDirectories(root.resolve("templates"));
        for (String template : List.of("standard", "small")) {
            Files.write(templates.resolve(template + ".xml"), resource("ievirsh/templates/" + template + ".xml"));
        }
        String web = text("ievirsh/examples/vms/web.yaml");
        String db = text("ievirsh/examples/vms/db.yaml");
        String lab = text("ievirsh/examples/vms/lab.yaml");
        Map<String, Map<String, String>> files = Map.of(
                "alice", Map.of("web.yaml", web, "db.yaml", db),
                "bob", Map.of("web.yaml", web, "lab.yaml", lab),
                "carol", Map.of("web.yaml", web.replace("memory: 2GiB", "memory: 64GiB"),
                        "notes.yaml", "apiVersion: ie-virsh/v1\nkind: VirtualMachine\nspec:\n  image: notes.qcow2\n"
                                + "  runStrategy: sometimes\n"));
        for (String user : USERS) {
            Path dir = Files.createDirectories(vmDirectory(user));
            for (Map.Entry<String, String> file : files.get(user).entrySet()) {
                Files.writeString(dir.resolve(file.getKey()), file.getValue());
            }
            Path images = Files.createDirectories(root.resolve("images").resolve(user));
            for (String image : List.of("web.qcow2", "db.qcow2", "lab.qcow2", "notes.qcow2")) {
                Files.write(images.resolve(image), EmptyQcow2.of(1L << 30));
            }
        }
        writeBlade("demo1", 16, 24L << 30);
        writeBlade("demo2", 8, 20L << 30);
    }

    private void writeBlade(String name, int cpus, long memory) throws IOException {
        Files.writeString(root.resolve(name + ".xml"), "<node>\n  <cpu>\n    <nodes>1</nodes>\n    <sockets>1</sockets>\n"
                + "    <cores>" + cpus + "</cores>\n    <threads>1</threads>\n    <active>" + cpus + "</active>\n"
                + "    <mhz>2000</mhz>\n    <model>demo</model>\n  </cpu>\n  <memory>" + (memory / 1024)
                + "</memory>\n</node>\n");
    }

    /** The controller config of the demo, listening on {@code listen}. */
    public ControllerConfig config(String listen) {
        String yaml = "users:\n  directories: " + root.resolve("home") + "/*/ie-virsh\n  minUid: 0\n"
                + "images:\n  inspection: off\n  root: " + root.resolve("images") + "\n"
                + "templates: " + root.resolve("templates") + "\n"
                + "defaultTemplate: standard\n"
                + "quota:\n  default: {vms: 4, runningVms: 2, vcpus: 8, memory: 8GiB}\n"
                + "blades:\n"
                + "  - {name: demo1, uri: \"test://" + root.resolve("demo1.xml") + "\", reserved: {vcpus: 2, memory: 4GiB}}\n"
                + "  - {name: demo2, uri: \"test://" + root.resolve("demo2.xml") + "\"}\n"
                + "http: {listen: \"" + listen + "\"}\n"
                + "resync: 10s\nstopGracePeriod: 5s\nworkers: 4\n";
        return ControllerConfig.parse("demo.yaml", yaml.getBytes(StandardCharsets.UTF_8)).orThrow();
    }

    /** Owners of the demo's directories: each student is played by the running account. */
    public DemoOwners owners() {
        return new DemoOwners(USERS);
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = DemoWorld.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("the jar lacks " + name);
            }
            return in.readAllBytes();
        }
    }

    private static String text(String name) throws IOException {
        return new String(resource(name), StandardCharsets.UTF_8);
    }

    /** Removes the temporary directory. */
    @Override
    public void close() {
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            System.err.println("ie-virsh demo: could not remove " + root + ": " + e.getMessage());
        }
    }
}
