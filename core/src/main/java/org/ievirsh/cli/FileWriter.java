package org.ievirsh.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

/** FileWriter writes a student's VM file whole: a temporary file renamed over the old one. */
final class FileWriter {
    private FileWriter() {
    }

    /** Replaces {@code file}'s text, keeping its permissions. */
    static void replace(Path file, String text) throws IOException {
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
        Path temporary = file.resolveSibling("." + file.getFileName() + ".ie-virsh-" + ProcessHandle.current().pid());
        Files.writeString(temporary, text, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        try {
            Files.setPosixFilePermissions(temporary, mode);
            Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /** Creates {@code file} with {@code text}; fails if it exists. */
    static void create(Path file, String text) throws IOException {
        Files.writeString(file, text, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }
}
