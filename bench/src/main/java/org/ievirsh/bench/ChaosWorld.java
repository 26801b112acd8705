package org.ievirsh.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.ievirsh.controller.ClassArchive;
import org.ievirsh.image.EmptyQcow2;

/**
 * ChaosWorld is the department {@code bench chaos} runs: real accounts with
 * VM files and blank images on the blades' shared storage, two controller
 * processes (a leader and a standby, each with its own config file, as two
 * hosts would have) on one {@code ha.lockFile}, and what every student file
 * must look like (the bench is the only one who writes them: anything else
 * that changes one is a violation).
 */
final class ChaosWorld implements AutoCloseable {
    static final String PREFIX = "ievchaos";
    static final int FIRST_UID = 47000;
    /** The admin's quota: VMs defined, and VMs running at once. */
    static final int QUOTA_VMS = 3;
    static final int QUOTA_RUNNING = 2;
    /** Each student's images: one more than their files can name, so an added file always finds a free one. */
    static final List<String> IMAGES = List.of("vm0", "vm1", "vm2", "vm3");

    /** A blade: its name in the config and in {@code .ci/blades.sh}, and its URI. */
    record Blade(String name, String uri) {
    }

    /** What a student's file must be: owner, mode, inode and content (sha256). */
    record Expect(int uid, int mode, long inode, String sha256) {
    }

    /** A student's VM file as they last wrote it. */
    record VmFile(String image, String runStrategy) {
        String text() {
            return "apiVersion: ie-virsh/v1\nkind: VirtualMachine\nspec:\n  template: bench\n  image: " + image
                    + ".qcow2\n  runStrategy: " + runStrategy + "\n";
        }
    }

    /** One controller process; {@code config} is its own file. */
    record Node(Process process, int port, Path config) {
        /** True once it serves HTTP: systemd calls a unit active from then on, and only then sends it a reload. */
        boolean serving() {
            return !readyz().equals("down");
        }

        /** "200" for the leader, "503 standby" for a standby, "down" when it does not answer. */
        String readyz() {
            return Readyz.of(port, Duration.ofSeconds(2));
        }
    }

    final BenchWorld world;
    final List<Blade> blades;
    final List<String> students = new ArrayList<>();
    final Path logs;
    /** Every student file the bench wrote (VM files and images): what it must be now; empty: it must not exist. */
    final Map<Path, Optional<Expect>> expected = new ConcurrentHashMap<>();
    /** Each student's VM files, by VM name. */
    final Map<String, Map<String, VmFile>> files = new ConcurrentHashMap<>();
    final List<Node> controllers = new ArrayList<>();
    private final Accounts accounts;
    private final Path admin;
    private int nodes;

    /** The admin's config as the faults leave it: a drained blade, a broken file, a changed grace period. */
    String drained;
    boolean broken;
    int graceSeconds = 1;

    ChaosWorld(List<Blade> blades, int count, Path logs) throws IOException, InterruptedException {
        this.blades = blades;
        this.logs = logs;
        this.world = new BenchWorld(BenchTemplates.kvmWithoutNetwork());
        // QEMU runs as the student: the way to their images is open to all (the images are theirs alone).
        for (Path p : List.of(world.root(), world.root().resolve("home"), world.root().resolve("images"))) {
            Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        // The lock file and the configs: root's alone, as ha.lockFile requires.
        this.admin = Files.createDirectories(world.root().resolve("admin"),
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
        this.accounts = Accounts.create(PREFIX, count, FIRST_UID, world.root().resolve("home"));
        byte[] blank = EmptyQcow2.of(64L << 20);
        for (int i = 0; i < count; i++) {
            String user = Accounts.name(PREFIX, i);
            students.add(user);
            files.put(user, new TreeMap<>());
            world.student(user, List.of());
            for (Path p : List.of(world.dir(user).getParent(), world.dir(user), images(user))) {
                own(p, user);
            }
            for (String image : IMAGES) {
                writeImage(user, image, blank);
            }
        }
    }

    int uid(String user) {
        return FIRST_UID + students.indexOf(user);
    }

    Path images(String user) {
        return world.root().resolve("images").resolve(user);
    }

    Path file(String user, String vm) {
        return world.dir(user).resolve(vm + ".yaml");
    }

    /** Writes a VM file as the student's editor saves it: a temporary file renamed over the name. */
    void writeFile(String user, String vm, VmFile content) throws IOException {
        Path temporary = world.dir(user).resolve("." + vm + ".yaml.swp");
        Files.writeString(temporary, content.text());
        own(temporary, user);
        Files.move(temporary, file(user, vm), StandardCopyOption.ATOMIC_MOVE);
        files.get(user).put(vm, content);
        expect(file(user, vm));
    }

    void removeFile(String user, String vm) throws IOException {
        Files.delete(file(user, vm));
        files.get(user).remove(vm);
        expected.put(file(user, vm), Optional.empty());
    }

    /** Renames a VM file to another VM's name (the VM it named goes, a new one comes with the same image). */
    void renameFile(String user, String from, String to) throws IOException {
        Files.move(file(user, from), file(user, to), StandardCopyOption.ATOMIC_MOVE);
        files.get(user).put(to, files.get(user).remove(from));
        expected.put(file(user, from), Optional.empty());
        expect(file(user, to));
    }

    /** Writes an image as the student would copy one in: a new file renamed over the name. */
    void writeImage(String user, String image, byte[] content) throws IOException {
        Path temporary = images(user).resolve("." + image + ".part");
        Files.write(temporary, content);
        own(temporary, user);
        Files.move(temporary, images(user).resolve(image + ".qcow2"), StandardCopyOption.ATOMIC_MOVE);
        expect(images(user).resolve(image + ".qcow2"));
    }

    private void expect(Path path) throws IOException {
        expected.put(path, Optional.of(look(path)));
    }

    /** What a file is now, as {@link Expect} compares it (never following a link). */
    static Expect look(Path path) throws IOException {
        Map<String, Object> a = Files.readAttributes(path, "unix:uid,mode,ino", LinkOption.NOFOLLOW_LINKS);
        try {
            return new Expect((Integer) a.get("uid"), (Integer) a.get("mode"), (Long) a.get("ino"),
                    HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(path))));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void own(Path path, String user) throws IOException {
        Files.setAttribute(path, "unix:uid", uid(user), LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(path, "unix:gid", 100, LinkOption.NOFOLLOW_LINKS);
    }

    /** The config one controller reads: the same for both but for its HTTP port. */
    String configText(int port) {
        if (broken) {
            return "resync: soon\nblades: {}\n";  // refused whole: the controller keeps the config it has
        }
        StringBuilder bladeLines = new StringBuilder();
        for (Blade b : blades) {
            bladeLines.append("  - {name: ").append(b.name()).append(", uri: \"").append(b.uri())
                    .append("\", capacity: {vcpus: 64, memory: 16GiB}")
                    .append(b.name().equals(drained) ? ", drain: true" : "").append("}\n");
        }
        Path root = world.root();
        return "users:\n  directories: " + root.resolve("home") + "/*/ie-virsh\n  minUid: 1000\n"
                + "images:\n  inspection: off\n  root: " + root.resolve("images") + "\n"
                + "templates: " + root.resolve("templates") + "\ndefaultTemplate: bench\n"
                + "quota:\n  default: {vms: " + QUOTA_VMS + ", runningVms: " + QUOTA_RUNNING
                + ", vcpus: 100, memory: 100GiB}\n"
                + "blades:\n" + bladeLines + "lockManager: lockd\n"
                + "migration: {parallel: 2, unsafe: true, timeout: 30s}\n"
                + "ha: {lockFile: " + admin.resolve("controller.lock") + "}\n"
                + "console: {socket: " + root.resolve("console.sock") + "}\n"
                + "http: {listen: \"127.0.0.1:" + port + "\"}\nresync: 15s\nstopGracePeriod: " + graceSeconds + "s\n"
                // A few students renaming and removing files every few seconds while a blade is frozen (its
                // removals wait) are a mass removal to the deletion guard, which then waits for an admin, as it
                // should (ControllerLoopTest tests it): here it stays out of the way.
                + "deletionGuard: 100%\n";
    }

    /**
     * Writes every controller's config anew and tells each to read it: SIGHUP, as systemd's reload does, to
     * those that serve (systemd folds a reload asked while a unit starts into its start).
     */
    void reload() throws IOException {
        for (Node node : controllers) {
            Files.writeString(node.config(), configText(node.port()));
            if (node.process().isAlive() && node.serving()) {
                new ProcessBuilder("kill", "-HUP", Long.toString(node.process().pid())).start();
            }
        }
    }

    /** Starts a controller process as the unit runs it (its JVM options), with a config of its own. */
    Node startController() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        int n = nodes++;
        Path config = admin.resolve("controller-" + n + ".yaml");
        Files.writeString(config, configText(port));
        Process process = new ProcessBuilder(ClassArchive.javaOfThisProgram(), "-XX:+UseSerialGC", "-Xmx512m",
                "-XX:TieredStopAtLevel=1", "-jar", ClassArchive.jarOfThisProgram(), "controller", "--config",
                config.toString()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logs.resolve("controller-" + n + ".log").toFile()))
                .start();
        Node node = new Node(process, port, config);
        controllers.add(node);
        return node;
    }

    /** Exit codes of controllers that ended by themselves (not killed by the bench), by code. */
    final Map<Integer, Integer> exits = new TreeMap<>();
    /** Processes the bench killed itself. */
    final java.util.Set<Long> killed = ConcurrentHashMap.newKeySet();

    /**
     * Starts a controller again for each that exited, as systemd's {@code Restart=always} does; one that
     * ended by itself (the watchdog's exit, a crash) is counted by its exit code and said in the log.
     */
    void supervise(java.util.function.Consumer<String> log) throws IOException {
        for (Node node : List.copyOf(controllers)) {
            if (node.process().isAlive() || !controllers.remove(node)) {
                continue;
            }
            if (!killed.contains(node.process().pid())) {
                int code = node.process().exitValue();
                exits.merge(code, 1, Integer::sum);
                log.accept("controller pid " + node.process().pid() + " exited by itself, code " + code);
            }
            startController();
        }
    }

    /** The controller that leads now, if one answers as leader. */
    Optional<Node> leader() {
        return controllers.stream().filter(n -> n.process().isAlive() && n.readyz().startsWith("200")).findFirst();
    }

    /** Runs a command of the bench's own (blades.sh, chmod); its output goes to the run's log. */
    void run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logs.resolve("bench-commands.log").toFile())).start();
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " did not finish");
        }
    }

    /** Output of a command, or empty when it fails or takes over 5 s (a frozen blade). */
    static Optional<String> output(List<String> command) {
        try {
            List<String> full = new ArrayList<>(List.of("timeout", "-s", "KILL", "5"));
            full.addAll(command);
            Process p = new ProcessBuilder(full).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            byte[] out = p.getInputStream().readAllBytes();
            return p.waitFor() == 0 ? Optional.of(new String(out, StandardCharsets.UTF_8)) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** Stops the controllers, removes the students' domains from every blade, the accounts and the files. */
    @Override
    public void close() throws IOException {
        for (Node node : controllers) {
            node.process().destroyForcibly();
        }
        for (Blade b : blades) {
            for (String name : output(List.of("virsh", "-q", "-c", b.uri(), "list", "--all", "--name"))
                    .orElse("").lines().map(String::strip).filter(n -> n.startsWith(PREFIX)).toList()) {
                output(List.of("virsh", "-q", "-c", b.uri(), "destroy", name));
                output(List.of("virsh", "-q", "-c", b.uri(), "undefine", name));
            }
        }
        try {
            accounts.close();
        } finally {
            world.close();
        }
    }
}
