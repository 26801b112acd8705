package org.ievirsh.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Logger;

/** Tokens reads the HTTP token of {@code http.tokenFile}: one line, kept from other users. */
final class Tokens {
    private static final Logger LOG = Logger.getLogger(Tokens.class.getName());

    private Tokens() {
    }

    /** The token of {@code file}, if one is configured; a file that cannot serve as one stops the start. */
    static Optional<String> read(Optional<Path> file) {
        if (file.isEmpty()) {
            return Optional.empty();
        }
        Path path = file.get();
        try {
            if (!Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
                throw new IllegalStateException("http.tokenFile " + path + " is not a regular file");
            }
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS);
            if (mode.contains(PosixFilePermission.OTHERS_READ) || mode.contains(PosixFilePermission.GROUP_READ)) {
                LOG.warning("http.tokenFile " + path + " can be read by other users; chmod 600 " + path);
            }
            String token = Files.readString(path, StandardCharsets.UTF_8).strip();
            if (token.isEmpty() || token.contains("\n") || token.length() > 4096) {
                throw new IllegalStateException("http.tokenFile " + path + " must hold one line: the token");
            }
            return Optional.of(token);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read http.tokenFile " + path + ": " + e.getMessage(), e);
        }
    }
}
