package org.ievirsh.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.image.EmptyQcow2;
import org.ievirsh.posix.Nss;
import org.ievirsh.users.Owner;
import org.ievirsh.users.OwnerResolver;

/**
 * World is a small department for loop and integration tests: students'
 * directories under a temporary root, their images, the repository's
 * templates, and a config with the blades a test asks for. Students are
 * played by the account running the test (like the demo), unless a test
 * makes real users.
 */
public final class World {
    public static final String VM = "apiVersion: ie-virsh/v1\nkind: VirtualMachine\nspec:\n  image: %s.qcow2\n"
            + "  runStrategy: %s\n";

    private final Path root;
    private final Map<String, Integer> uids = new ConcurrentHashMap<>();
    private final Map<String, Boolean> resolvable = new ConcurrentHashMap<>();
    private String inspection = "off";
    /** The groups of each student as NSS would give them (default: students). */
    private volatile java.util.function.Function<String, List<String>> groups = user -> List.of("students");
    private int maxFiles = 64;

    public World(Path root) throws IOException {
        this.root = root;
        Path templates = Files.createDirectories(root.resolve("templates"));
        for (String name : List.of("standard", "small")) {
            Files.copy(Repo.path("templates/" + name + ".xml"), templates.resolve(name + ".xml"));
        }
        Files.createDirectories(root.resolve("home"));
        Files.createDirectories(root.resolve("images"));
    }

    public Path root() {
        return root;
    }

    /** Makes a student with a directory and an image directory. */
    public World student(String user) throws IOException {
        homeOnly(user);
        Files.createDirectories(dir(user));
        return this;
    }

    /** Makes a student with a home and an image directory, but no ie-virsh directory yet. */
    public World homeOnly(String user) throws IOException {
        uids.put(user, 30001 + uids.size());
        resolvable.put(user, true);
        Files.createDirectories(dir(user).getParent());
        Files.createDirectories(root.resolve("images").resolve(user));
        return this;
    }

    public Path dir(String user) {
        return root.resolve("home").resolve(user).resolve("ie-virsh");
    }

    public Path image(String user, String name) {
        return root.resolve("images").resolve(user).resolve(name);
    }

    /** Writes a VM file and its (empty, valid) image. */
    public Path vm(String user, String name, String runStrategy) throws IOException {
        if (!Files.exists(image(user, name + ".qcow2"))) {
            Files.write(image(user, name + ".qcow2"), EmptyQcow2.of(1L << 30));
        }
        return write(user, name + ".yaml", String.format(VM, name, runStrategy));
    }

    public Path write(String user, String file, String text) throws IOException {
        Path path = dir(user).resolve(file);
        Path temporary = dir(user).resolve("." + file + ".tmp");
        Files.writeString(temporary, text);
        Files.move(temporary, path, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return path;
    }

    /** The status file of a VM, if there is one and it reads (checked against the status schema). */
    public Optional<VmStatus> status(String user, String vm) {
        return Statuses.read(dir(user), vm);
    }

    /** NSS stops (or starts again) resolving a user, as during an LDAP outage. */
    public void resolvable(String user, boolean yes) {
        resolvable.put(user, yes);
    }

    public int uid(String user) {
        return uids.get(user);
    }

    /** Owners of the world's directories: each student is played by the account running the test. */
    public OwnerResolver owners() {
        return new OwnerResolver() {
            @Override
            public Optional<Owner> resolve(Path directory, int uid) {
                String user = directory.getParent().getFileName().toString();
                // Students are played by this account: a directory anyone else owns is no student's.
                if (!resolvable.getOrDefault(user, false) || uid != Nss.effectiveUid()) {
                    return Optional.empty();
                }
                return Optional.of(new Owner(user, uids.get(user), uids.get(user), groups.apply(user), uid,
                        Nss.effectiveGid(), directory.getParent().toString()));
            }

            @Override
            public boolean distinguishesDirectories() {
                return true;
            }
        };
    }

    /**
     * Writes the description of a host of libvirt's test driver with
     * {@code cpus} and {@code gib} of memory: {@code test://FILE} is then a
     * blade of its own.
     */
    public static Path testDriverHost(Path file, int cpus, long gib) throws IOException {
        return Files.writeString(file, "<node><cpu><nodes>1</nodes><sockets>1</sockets><cores>" + cpus
                + "</cores><threads>1</threads><active>" + cpus + "</active><mhz>2000</mhz><model>t</model></cpu>"
                + "<memory>" + (gib << 20) + "</memory></node>");
    }

    /** Gives each student the groups {@code groupsOf} says (asked at every discovery). */
    public World groups(java.util.function.Function<String, List<String>> groupsOf) {
        this.groups = groupsOf;
        return this;
    }

    /** Sets users.maxFiles (64 unless a test floods a directory). */
    public World maxFiles(int count) {
        this.maxFiles = count;
        return this;
    }

    /** Sets images.inspection (off unless a test looks inside images). */
    public World inspection(String mode) {
        this.inspection = mode;
        return this;
    }

    /** The line {@code line} unless {@code extra} sets its key itself. */
    private static String defaults(String line, String extra) {
        String key = line.substring(0, line.indexOf(':') + 1);
        return extra.startsWith(key) || extra.contains("\n" + key) ? "" : line + "\n";
    }

    /** A config for this world with {@code blades} (YAML flow entries) and extra top-level lines. */
    public ControllerConfig config(String blades, String extra) {
        String yaml = "users:\n  directories: " + root.resolve("home") + "/*/ie-virsh\n  minUid: 0\n  maxFiles: "
                + maxFiles + "\n"
                + "images:\n  inspection: " + inspection + "\n  root: " + root.resolve("images") + "\n"
                + "  inspectionCache: /tmp/ie-virsh-test-inspection\n"
                + "templates: " + root.resolve("templates") + "\n"
                + "blades:\n" + blades
                + "http: {listen: \"127.0.0.1:0\"}\n"
                + defaults("resync: 2s", extra) + defaults("stopGracePeriod: 1s", extra) + defaults("workers: 4", extra)
                + extra;
        return ControllerConfig.parse("test.yaml", yaml.getBytes(StandardCharsets.UTF_8)).orThrow();
    }
}
