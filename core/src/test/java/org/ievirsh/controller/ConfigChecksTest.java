package org.ievirsh.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.ievirsh.api.v1.ControllerConfig;
import org.junit.jupiter.api.Test;

/** ConfigChecksTest: what a reloaded config changes that only a restart applies. */
class ConfigChecksTest {
    private static final String BLADES = "blades: [{name: b1, uri: \"test:///default\"}]\n";

    private static ControllerConfig config(String text) {
        return ControllerConfig.parse("controller.yaml", (text + BLADES).getBytes(StandardCharsets.UTF_8)).orThrow();
    }

    @Test
    void whatIsLiveNeedsNoRestart() {
        assertEquals(List.of(), ConfigChecks.needRestart(config(""),
                config("quota:\n  default: {vms: 1}\nresync: 10s\ndeletionGuard: 3\n")));
    }

    @Test
    void theSocketsHaDirectoriesImagesAndWorkersNeedOne() {
        ControllerConfig old = config("workers: 4\n");
        assertEquals(List.of("http", "console.socket", "users.directories and users.minUid", "images", "workers"),
                ConfigChecks.needRestart(old, config("""
                        workers: 8
                        http: {listen: "127.0.0.1:9999"}
                        console: {socket: /run/other.sock}
                        users: {minUid: 2000}
                        images: {root: /srv/elsewhere}
                        """)));
    }
}
