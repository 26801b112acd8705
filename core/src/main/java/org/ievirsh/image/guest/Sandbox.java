package org.ievirsh.image.guest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import org.ievirsh.posix.Nss;
import org.ievirsh.posix.PosixException;
import org.ievirsh.posix.SafeDir;

/**
 * Sandbox starts libguestfs with the rights of the student whose image it
 * looks at, never root's (the README's "QEMU runs as the student"): {@code setpriv} with the owner's
 * uid and gid, no other groups and no new privileges, a clean environment,
 * and a cache and temporary directory of that student's own. Whatever the
 * image's header names (a backing file, a data file), the appliance's QEMU
 * can then open only what the student could open anyway.
 *
 * <p>The appliance is a fixed one, built once as root from the host's own
 * files ({@code libguestfs-make-fixed-appliance}) into the admin's cache
 * directory and only read afterwards: without it every student would build
 * one of their own (about 30 s each).
 */
public final class Sandbox {
    private static final Logger LOG = Logger.getLogger(Sandbox.class.getName());
    private static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private final Path cache;
    private final String backendSettings;

    /** {@code cache}: the admin's directory for the appliance and the students' scratch directories. */
    public Sandbox(Path cache, String backendSettings) {
        this.cache = cache;
        this.backendSettings = backendSettings;
    }

    /**
     * A guestfish command that runs as {@code uid}:{@code gid}; the
     * appliance is built first if it is not there yet.
     */
    ProcessBuilder guestfish(int uid, int gid) throws IOException {
        Path appliance = appliance();
        Path scratch = scratch(uid, gid);
        List<String> command = new ArrayList<>();
        int self = Nss.effectiveUid();
        if (self != uid) {
            if (self != 0) {
                throw new IOException("the controller runs as uid " + self + " and cannot look at an image of uid "
                        + uid + " with that student's rights");
            }
            command.addAll(List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups",
                    "--no-new-privs", "--"));
        }
        command.addAll(List.of("guestfish", "--no-progress-bars"));
        ProcessBuilder builder = new ProcessBuilder(command);
        Map<String, String> env = builder.environment();
        env.clear();
        env.put("PATH", PATH);
        env.put("HOME", scratch.toString());
        env.put("TMPDIR", scratch.toString());
        env.put("LIBGUESTFS_CACHEDIR", scratch.toString());
        env.put("LIBGUESTFS_PATH", appliance.toString());
        env.put("LIBGUESTFS_BACKEND", "direct");
        if (!backendSettings.isEmpty()) {
            env.put("LIBGUESTFS_BACKEND_SETTINGS", backendSettings);
        }
        return builder.directory(scratch.toFile());
    }

    /** The student's own scratch directory, {@code <cache>/users/<uid>}, made for them (mode 0700). */
    Path scratch(int uid, int gid) throws IOException {
        try (SafeDir root = SafeDir.openTrusted(cache());
             SafeDir users = root.openOrCreateDir("users", 0, 0, 0711);
             SafeDir mine = users.openOrCreateDir(Integer.toString(uid), uid, gid, 0700)) {
            if (mine.stat().uid() != uid) {
                // A directory left by an earlier owner of the uid's number, or made by hand: it is this uid's now.
                mine.chown(uid, gid, 0700);
            }
        } catch (PosixException e) {
            throw new IOException("cannot prepare the scratch directory of uid " + uid + ": " + e.getMessage(), e);
        }
        return cache.resolve("users").resolve(Integer.toString(uid));
    }

    private Path cache() throws IOException {
        if (!Files.isDirectory(cache)) {
            Files.createDirectories(cache);
            Files.setPosixFilePermissions(cache, PosixFilePermissions.fromString("rwx--x--x"));
        }
        return cache;
    }

    /** Builds the fixed appliance now if it is not there yet (at start, so that the first look need not wait). */
    public void prepare() throws IOException {
        appliance();
    }

    /** The fixed appliance, built once (as root, from the host's files) if it is not there. */
    synchronized Path appliance() throws IOException {
        Path appliance = cache().resolve("appliance");
        if (Files.isRegularFile(appliance.resolve("root")) && Files.isRegularFile(appliance.resolve("kernel"))) {
            return appliance;
        }
        LOG.info("building libguestfs' fixed appliance in " + appliance + " (once; it takes about a minute)");
        Path building = Files.createTempDirectory(cache, "appliance.new-");
        ProcessBuilder builder = new ProcessBuilder("libguestfs-make-fixed-appliance", building.toString())
                .redirectErrorStream(true);
        builder.environment().put("LIBGUESTFS_BACKEND", "direct");
        if (!backendSettings.isEmpty()) {
            builder.environment().put("LIBGUESTFS_BACKEND_SETTINGS", backendSettings);
        }
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new IOException("libguestfs-make-fixed-appliance cannot be run on the controller's host (Debian:"
                    + " apt install libguestfs-tools linux-image-amd64): " + e.getMessage(), e);
        }
        String output = new String(process.getInputStream().readNBytes(4000), StandardCharsets.UTF_8);
        try {
            if (!process.waitFor(10, TimeUnit.MINUTES) || process.exitValue() != 0
                    || !Files.isRegularFile(building.resolve("root"))) {
                process.destroyForcibly();
                throw new IOException("building libguestfs' appliance failed: " + output.strip());
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while building libguestfs' appliance", e);
        }
        for (String name : List.of("kernel", "initrd", "root", "README.fixed")) {
            Path file = building.resolve(name);
            if (Files.exists(file)) {
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
            }
        }
        Files.setPosixFilePermissions(building, PosixFilePermissions.fromString("rwxr-xr-x"));
        if (Files.exists(appliance)) {
            try (var old = Files.list(appliance)) {
                for (Path p : old.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(appliance);
        }
        Files.move(building, appliance, StandardCopyOption.ATOMIC_MOVE);
        return appliance;
    }
}
