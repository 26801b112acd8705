package org.ievirsh.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Bases makes an admin's directory of base images for tests: under the
 * module's {@code target/} (a JUnit directory under {@code /tmp} is below a
 * world-writable directory, where no base may be), root's and 0755, each base
 * a real qcow2 (qemu-img) root's and 0644.
 */
public final class Bases {
    private Bases() {
    }

    /** A new, empty directory of bases. */
    public static Path directory() throws IOException {
        Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "bases-");
        Commands.ok("chmod", "755", dir.toString());
        return dir;
    }

    /** Makes base {@code name} of {@code size} (qemu-img's notation) in {@code dir}, with a descriptor if given. */
    public static Path base(Path dir, String name, String size, String descriptor) throws IOException {
        Path base = dir.resolve(name + ".qcow2");
        Commands.ok("qemu-img", "create", "-q", "-f", "qcow2", base.toString(), size);
        Commands.ok("chmod", "644", base.toString());
        if (descriptor != null) {
            Files.writeString(dir.resolve(name + ".yaml"), descriptor);
            Commands.ok("chmod", "644", dir.resolve(name + ".yaml").toString());
        }
        return base;
    }
}
