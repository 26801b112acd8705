package org.ievirsh.controller;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.ievirsh.api.Parsed;
import org.ievirsh.api.v1.ControllerConfig;

/** ConfigFiles reads the admin's controller config for the commands that need it. */
public final class ConfigFiles {
    private ConfigFiles() {
    }

    /** Reads {@code path}; a missing or unreadable file is a failed parse with the reason. */
    public static Parsed<ControllerConfig> read(Path path) {
        try {
            if (Files.size(path) > 1024 * 1024) {
                return Parsed.failed(org.ievirsh.api.Problem.ofFile(path.toString(), "the file is over 1 MiB"));
            }
            return ControllerConfig.parse(path.toString(), Files.readAllBytes(path));
        } catch (IOException e) {
            return Parsed.failed(org.ievirsh.api.Problem.ofFile(path.toString(), "cannot read it: " + e.getMessage()));
        }
    }
}
