package org.ievirsh.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.ievirsh.image.Inspections;
import org.ievirsh.support.Commands;

/**
 * GuestDisks builds real guest disks without mounting anything: a directory
 * tree made into ext4 by {@code mke2fs -d}, as a whole disk or as partitions
 * of a DOS-labelled disk ({@code sfdisk}, then {@code mke2fs -E offset=}),
 * converted to qcow2.
 */
final class GuestDisks {
    static final String PASSWD = "root:x:0:0:root:/root:/bin/bash\n"
            + "vagrant:x:1000:1000:vagrant:/home/vagrant:/bin/bash\n";

    private GuestDisks() {
    }

    /** A tree of files (path → content) under {@code dir}. */
    static Path tree(Path dir, Map<String, String> files) throws IOException {
        for (Map.Entry<String, String> e : files.entrySet()) {
            Path file = dir.resolve(e.getKey());
            Files.createDirectories(file.getParent());
            Files.writeString(file, e.getValue());
        }
        return dir;
    }

    /** A qcow2 disk that is one ext4 filesystem, no partition table. */
    static Path wholeDisk(Path tree, Path qcow2) throws IOException {
        Path raw = qcow2.resolveSibling(qcow2.getFileName() + ".raw");
        Commands.ok("truncate", "-s", "32M", raw.toString());
        Commands.ok("mke2fs", "-q", "-F", "-t", "ext4", "-d", tree.toString(), raw.toString());
        return convert(raw, qcow2);
    }

    /** A qcow2 disk with a DOS label and two ext4 partitions (a root and a separate /home). */
    static Path partitioned(Path root, Path home, Path qcow2) throws IOException {
        Path raw = qcow2.resolveSibling(qcow2.getFileName() + ".raw");
        Commands.ok("truncate", "-s", "80M", raw.toString());
        Path script = Files.writeString(qcow2.resolveSibling("sfdisk.txt"),
                "label: dos\nstart=2048, size=77824, type=83\nstart=79872, size=81920, type=83\n");
        Commands.ok("sh", "-c", "sfdisk -q " + raw + " < " + script);
        Commands.ok("mke2fs", "-q", "-F", "-t", "ext4", "-E", "offset=" + 2048L * 512, "-d", root.toString(),
                raw.toString(), "38M");
        Commands.ok("mke2fs", "-q", "-F", "-t", "ext4", "-E", "offset=" + 79872L * 512, "-d", home.toString(),
                raw.toString(), "40M");
        return convert(raw, qcow2);
    }

    /**
     * A qcow2 disk whose only filesystem is XFS on an LVM logical volume
     * (/dev/VG/LV), made by libguestfs itself, holding {@code file} with
     * {@code content}: no host device or mount is involved.
     */
    static Path lvmXfs(String file, String content, Path qcow2) throws IOException, InterruptedException {
        Path raw = qcow2.resolveSibling(qcow2.getFileName() + ".raw");
        ProcessBuilder builder = new ProcessBuilder("guestfish", "-N", raw + "=lvfs:/dev/VG/LV:xfs:320M")
                .redirectErrorStream(true);
        builder.environment().put("LIBGUESTFS_BACKEND", "direct");
        builder.environment().put("LIBGUESTFS_BACKEND_SETTINGS", Inspections.backendSettings());
        Process p = builder.start();
        String parent = file.substring(0, file.lastIndexOf('/'));
        String quoted = content.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
        p.getOutputStream().write(("mount /dev/VG/LV /\nmkdir-p " + parent + "\nwrite " + file + " \"" + quoted
                + "\"\n").getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IOException("guestfish -N failed: " + output);
        }
        return convert(raw, qcow2);
    }

    private static Path convert(Path raw, Path qcow2) throws IOException {
        Commands.ok("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw.toString(), qcow2.toString());
        Files.delete(raw);
        return qcow2;
    }
}
