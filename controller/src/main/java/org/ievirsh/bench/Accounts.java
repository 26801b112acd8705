package org.ievirsh.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Accounts makes many real POSIX accounts in one step ({@code newusers})
 * and removes them all afterwards by putting back the account files as they
 * were (a userdel per account would take minutes).
 */
final class Accounts implements AutoCloseable {
    private static final List<String> FILES = List.of("/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow");

    private final Path backup;

    private Accounts(Path backup) {
        this.backup = backup;
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
            lines.append(name(prefix, i)).append(":*:").append(firstUid + i).append(":100::")
                    .append(homes.resolve(name(prefix, i))).append(":/usr/sbin/nologin\n");
        }
        Path input = Files.writeString(backup.resolve("newusers.txt"), lines);
        Process process = new ProcessBuilder("newusers", "-c", "NONE", input.toString()).inheritIO().start();
        if (!process.waitFor(10, TimeUnit.MINUTES) || process.exitValue() != 0) {
            accounts.close();
            throw new IOException("newusers failed");
        }
        return accounts;
    }

    static String name(String prefix, int i) {
        return String.format("%s%05d", prefix, i);
    }

    /** Puts the account files back as they were. */
    @Override
    public void close() throws IOException {
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
