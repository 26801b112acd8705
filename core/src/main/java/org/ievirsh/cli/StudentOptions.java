package org.ievirsh.cli;

import com.sun.security.auth.module.UnixSystem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;
import org.ievirsh.api.Parsed;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.controller.ConfigFiles;
import picocli.CommandLine.Option;

/**
 * StudentOptions are the options every student command shares: which
 * directory ({@code --dir}, {@code IE_VIRSH_DIR}, default {@code ~/ie-virsh})
 * and which admin config to read template names and the image directory from
 * ({@code --config}, {@code IE_VIRSH_CONFIG}, default the installed one).
 */
final class StudentOptions {
    @Option(names = "--dir", paramLabel = "DIR",
            description = "Your VM directory (default: $IE_VIRSH_DIR, else ~/ie-virsh).")
    Path dir;

    @Option(names = "--config", paramLabel = "FILE", defaultValue = "${env:IE_VIRSH_CONFIG:-/etc/ie-virsh/controller.yaml}",
            description = "The admin's config (default: $IE_VIRSH_CONFIG, else /etc/ie-virsh/controller.yaml).")
    Path config;

    /** The VM directory to use. */
    Path directory() {
        if (dir != null) {
            return dir;
        }
        String env = System.getenv("IE_VIRSH_DIR");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return Path.of(System.getProperty("user.home"), "ie-virsh");
    }

    /** The directory, checked: it exists and is a directory; else a message that says how to fix it. */
    Path existingDirectory() throws StudentError {
        Path d = directory();
        if (!Files.exists(d, LinkOption.NOFOLLOW_LINKS)) {
            throw new StudentError("there is no " + d + " yet; create it with: mkdir " + d);
        }
        if (!Files.isDirectory(d)) {
            throw new StudentError(d + " is not a directory");
        }
        return d;
    }

    /** The admin's config, if it can be read. */
    Optional<ControllerConfig> adminConfig() {
        Parsed<ControllerConfig> parsed = ConfigFiles.read(config);
        return parsed.value();
    }

    /** The account running the command: uid, gid and name. */
    static UnixSystem self() {
        return new UnixSystem();
    }

    /** The file of VM {@code name}: name.yaml, or name.yml if only that exists. */
    static Path vmFile(Path dir, String name) {
        Path yml = dir.resolve(name + ".yml");
        Path yaml = dir.resolve(name + ".yaml");
        return Files.exists(yml, LinkOption.NOFOLLOW_LINKS) && !Files.exists(yaml, LinkOption.NOFOLLOW_LINKS)
                ? yml : yaml;
    }

    /** Checks that {@code file} is the student's own regular file, writable; returns its text. */
    static String ownFile(Path file) throws StudentError {
        try {
            if (Files.isSymbolicLink(file)) {
                throw new StudentError(file + " is a symbolic link; the controller ignores links: keep the file itself");
            }
            if (!Files.exists(file)) {
                throw new StudentError("there is no " + file + " (ie-virsh list shows your VMs)");
            }
            int owner = (Integer) Files.getAttribute(file, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            if (owner != self().getUid()) {
                throw new StudentError(file + " belongs to uid " + owner + ", not to you; the controller ignores it");
            }
            if (!Files.isWritable(file.getParent())) {
                throw new StudentError("you cannot write in " + file.getParent());
            }
            return Files.readString(file);
        } catch (IOException e) {
            throw new StudentError("cannot read " + file + ": " + e.getMessage());
        }
    }

    /**
     * Checks that the directory entry {@code file} (a link itself, if it is one) is the student's own: in a
     * directory others may write, the file system alone would let one student remove another's file.
     */
    static void ownEntry(Path file) throws StudentError {
        try {
            int owner = (Integer) Files.getAttribute(file, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            if (owner != self().getUid()) {
                throw new StudentError(file + " belongs to uid " + owner + ", not to you; it is left as it is");
            }
        } catch (IOException e) {
            throw new StudentError("cannot read " + file + ": " + e.getMessage());
        }
    }

    /** StudentError is a failure to report in one line and exit 1. */
    static final class StudentError extends Exception {
        private static final long serialVersionUID = 1L;

        StudentError(String message) {
            super(message);
        }
    }
}
