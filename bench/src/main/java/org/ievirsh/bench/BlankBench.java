package org.ievirsh.bench;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.ievirsh.image.ImageChecker;
import org.ievirsh.image.ImageVerdict;

/**
 * BlankBench measures the blank-image promise of docs/performance.md (issue 19): a fresh
 * {@code qemu-img create} image is admitted as clean by its header alone,
 * beside the same check of an image with one written cluster, which is
 * still sent to the look inside it (libguestfs' appliance: about 20 s under
 * TCG, see {@code ievirsh_image_inspection_duration_seconds}).
 */
final class BlankBench {
    private static final int RUNS = 200;

    private BlankBench() {
    }

    static int run(PrintStream out) throws Exception {
        Path root = Files.createTempDirectory("ievirsh-blank-bench");
        try {
            Path dir = Files.createDirectories(root.resolve("bench"));
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            qemuImg(dir, "create", "-q", "-f", "qcow2", "blank.qcow2", "20G");
            qemuImg(dir, "create", "-q", "-f", "qcow2", "data.qcow2", "20G");
            Process io = new ProcessBuilder("qemu-io", "-f", "qcow2", "-c", "write -P 0x41 0 64k",
                    dir.resolve("data.qcow2").toString()).redirectErrorStream(true).start();
            io.getInputStream().readAllBytes();
            if (io.waitFor() != 0) {
                throw new IllegalStateException("qemu-io could not write the image with data");
            }
            for (String image : List.of("blank.qcow2", "data.qcow2")) {
                Files.setPosixFilePermissions(dir.resolve(image), PosixFilePermissions.fromString("rw-------"));
            }
            int uid = (Integer) Files.getAttribute(dir, "unix:uid");
            ImageChecker checker = new ImageChecker(root);
            double blank = median(checker, uid, "blank.qcow2", true);
            double data = median(checker, uid, "data.qcow2", false);
            out.printf("blank  a blank 20 GiB qcow2 admitted as clean, no appliance: median %.3f ms per check (%d runs)"
                    + "%n", blank, RUNS);
            out.printf("blank  the same check of one with 64 KiB written: %.3f ms, then a look inside it (the"
                    + " appliance, ~20 s under TCG)%n", data);
            return Promise.report(out, "blank: a blank image admitted in under 10 ms", blank < 10);
        } finally {
            try (var files = Files.walk(root)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** The median wall time of one check, in milliseconds; each check must say {@code blank}. */
    private static double median(ImageChecker checker, int uid, String image, boolean blank) {
        List<Long> times = new ArrayList<>();
        for (int i = 0; i < RUNS; i++) {
            long t0 = System.nanoTime();
            ImageVerdict verdict = checker.check("bench", uid, image, "qcow2");
            times.add(System.nanoTime() - t0);
            if (!verdict.accepted() || verdict.blank() != blank) {
                throw new IllegalStateException(image + ": " + verdict);
            }
        }
        times.sort(null);
        return times.get(times.size() / 2) / 1e6;
    }

    private static void qemuImg(Path dir, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("qemu-img"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + ": " + output);
        }
    }
}
