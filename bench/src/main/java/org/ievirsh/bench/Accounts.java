package org.ievirsh.bench;

import java.util.ArrayList;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.ievirsh.posix.Nss;

/**
 * Accounts makes many real POSIX accounts in one step ({@code newusers})
 * and removes them all afterwards by putting back the account files as they
 * were (a userdel per account would take minutes).
 */
final class Accounts implements AutoCloseable {
    private static final List<String> FILES = List.of("/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow",
            "/etc/subuid", "/etc/subgid", "/etc/login.defs");

    private final Path backup;
    private final Thread restoreOnExit;

    private Accounts(Path backup) {
        this.backup = backup;
        // A benchmark stopped with Ctrl-C or SIGTERM still puts the account files back.
        this.restoreOnExit = new Thread(this::restoreQuietly, "restore-accounts");
        Runtime.getRuntime().addShutdownHook(restoreOnExit);
    }

    private void restoreQuietly() {
        try {
            restore();
        } catch (IOException e) {
            System.err.println("could not restore the account files from " + backup + ": " + e.getMessage());
        }
    }

    /**
     * Gives each of {@code count} accounts made by {@link #create} a student
     * directory with {@code vmsPerUser} VM files ({@code vm0}...,
     * {@code runStrategy: Always}), each with a blank image, all owned by the
     * account; returns the VM names.
     */
    static List<String> writeStudents(BenchWorld world, String prefix, int count, int firstUid, int vmsPerUser)
            throws IOException, InterruptedException {
        List<String> names = new ArrayList<>();
        for (int v = 0; v < vmsPerUser; v++) {
            names.add("vm" + v);
        }
        byte[] image = org.ievirsh.image.EmptyQcow2.of(1L << 20, 9);
        for (int u = 0; u < count; u++) {
            String user = name(prefix, u);
            world.student(user, List.of());
            Path images = world.root().resolve("images").resolve(user);
            for (String vm : names) {
                Files.write(images.resolve(vm + ".qcow2"), image);
                world.save(user, vm, "Always");
            }
            Process chown = new ProcessBuilder("chown", "-R", (firstUid + u) + ":100",
                    world.root().resolve("home").resolve(user).toString(), images.toString()).start();
            if (!chown.waitFor(1, TimeUnit.MINUTES) || chown.exitValue() != 0) {
                throw new IOException("chown failed");
            }
        }
        return names;
    }

    /** Makes {@code count} accounts {@code <prefix><n>} with uids from {@code firstUid}, homes under {@code homes}. */
    static Accounts create(String prefix, int count, int firstUid, Path homes) throws IOException, InterruptedException {
        Path backup = Files.createTempDirectory("ie-virsh-accounts-");
        for (String file : FILES) {
            Path source = Path.of(file);
            if (Files.exists(source)) {
                Files.copy(source, backup.resolve(source.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
        Accounts accounts = new Accounts(backup);
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < count; i++) {
            lines.append(name(prefix, i)).append("::").append(firstUid + i).append(":100::")
                    .append(homes.resolve(name(prefix, i))).append(":/usr/sbin/nologin\n");
        }
        Path input = Files.writeString(backup.resolve("newusers.txt"), lines);
        // No password: the accounts stay locked ("!"), and newusers skips hashing ten thousand passwords
        // (it complains once per account that none was given: that goes to a log, not to the reader).
        // No subordinate ids either: their default range runs out after about 9,000 accounts.
        Files.writeString(Path.of("/etc/login.defs"), "\nSUB_UID_COUNT 0\nSUB_GID_COUNT 0\n",
                java.nio.file.StandardOpenOption.APPEND);
        Files.createDirectories(homes);
        Process process = new ProcessBuilder("newusers", input.toString()).redirectErrorStream(true)
                .redirectOutput(backup.resolve("newusers.log").toFile()).start();
        boolean finished = process.waitFor(10, TimeUnit.MINUTES);
        if (!finished || Nss.byName(name(prefix, 0)).isEmpty() || Nss.byName(name(prefix, count - 1)).isEmpty()) {
            List<String> log = Files.readAllLines(backup.resolve("newusers.log"));
            String last = log.stream().filter(l -> !l.contains("password") && !l.contains("pam_chauthtok")
                    && !l.contains("Authentication token")).reduce((a, b) -> b).orElse("(nothing)");
            accounts.close();
            throw new IOException("newusers did not make the accounts (finished: " + finished + "); it said: " + last);
        }
        return accounts;
    }

    static String name(String prefix, int i) {
        return String.format("%s%05d", prefix, i);
    }

    /** Puts the account files back as they were. */
    @Override
    public void close() throws IOException {
        try {
            Runtime.getRuntime().removeShutdownHook(restoreOnExit);
        } catch (IllegalStateException e) {
            // Already shutting down: the hook runs restore itself.
            return;
        }
        restore();
    }

    private synchronized void restore() throws IOException {
        if (!Files.exists(backup)) {
            return;
        }
        for (String file : FILES) {
            Path saved = backup.resolve(Path.of(file).getFileName());
            if (Files.exists(saved)) {
                Files.copy(saved, Path.of(file), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
        try (var walk = Files.walk(backup)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
