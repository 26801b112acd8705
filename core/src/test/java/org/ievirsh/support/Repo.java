package org.ievirsh.support;

import java.nio.file.Files;
import java.nio.file.Path;

/** Repo finds files of the repository (templates, examples) from a test. */
public final class Repo {
    private Repo() {
    }

    /** The repository's top directory. */
    public static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve("templates").resolve("standard.xml"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("cannot find the repository from " + Path.of("").toAbsolutePath());
        }
        return dir;
    }

    public static Path path(String relative) {
        return root().resolve(relative);
    }
}
