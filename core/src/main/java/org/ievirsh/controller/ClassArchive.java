package org.ievirsh.controller;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * ClassArchive makes the controller's class archive (JDK 17's dynamic
 * class-data sharing): a JVM runs the demo on libvirt's test driver, the
 * controller's own code paths end to end (config, HTTP, metrics, libvirt,
 * the reconciler, status files), and records at its exit every class it
 * loaded, parsed, verified and linked. A controller JVM started with
 * {@code -XX:SharedArchiveFile=} maps them instead of reading them from the
 * jar: a third of a second less from the service's start to its first
 * pass on this machine's 2 cores. The archive belongs to one jar and one JDK; the
 * JVM ignores it, with a warning, when either changed, and
 * {@code ie-virsh-controller --class-archive} makes it again then.
 */
public final class ClassArchive {
    private ClassArchive() {
    }

    /**
     * Writes the archive of {@code jar} to {@code archive} with the JVM
     * {@code jvm} (its program, then its options: the service's), by rename: a
     * controller starting meanwhile maps the old archive or none, never half
     * of one. Throws with the training run's output when it failed.
     */
    public static void make(List<String> jvm, String jar, Path archive)
            throws IOException, InterruptedException {
        // A private directory beside the archive for the run's files: the JVM writes its archive where it is
        // told, following links, so nobody else may be able to name anything in there.
        Path work = Files.createTempDirectory(archive.toAbsolutePath().getParent(), "." + archive.getFileName(),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path partial = work.resolve("archive");
        Path log = work.resolve("training.log");
        try {
            List<String> command = new ArrayList<>(jvm);
            command.addAll(List.of("-XX:ArchiveClassesAtExit=" + partial, "-jar", Path.of(jar).toAbsolutePath().toString(),
                    "demo", "--stay", "0s", "--listen", "127.0.0.1:0"));
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                p.waitFor(30, TimeUnit.SECONDS);  // gone before its files are cleared away below
                throw new IOException("the training run took over 5 minutes: " + Files.readString(log));
            }
            if (p.exitValue() != 0 || !Files.isRegularFile(partial) || Files.size(partial) == 0) {
                throw new IOException("the training run (the demo) failed, exit " + p.exitValue() + ":\n"
                        + Files.readString(log));
            }
            Files.move(partial, archive, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(partial);
            Files.deleteIfExists(log);
            Files.deleteIfExists(work);
        }
    }

    /** The JVM option that maps {@code archive}. */
    public static String option(Path archive) {
        return "-XX:SharedArchiveFile=" + archive;
    }

    /** The java program this JVM runs (a new JVM started from it is the same JDK). */
    public static String javaOfThisProgram() {
        return ProcessHandle.current().info().command().orElse("java");
    }

    /** The absolute path of the jar this program runs from (an archive records it; it must be the same then). */
    public static String jarOfThisProgram() {
        try {
            return Path.of(ClassArchive.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                    .toAbsolutePath().toString();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
