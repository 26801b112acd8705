package org.ievirsh.support;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.ievirsh.api.Parsed;
import org.ievirsh.api.Problem;
import org.ievirsh.api.schema.SchemaCheck;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.api.yaml.SafeYaml;
import org.ievirsh.api.yaml.YamlDocument;
import org.ievirsh.status.StatusFiles;

/**
 * Statuses reads the status files a student reads, as the tests of every
 * tier see them: each file read is checked against the published status
 * schema ({@code status-v1.schema.json}), so that a status the contract does
 * not allow fails the test that sees it.
 */
public final class Statuses {
    private static final SchemaCheck SCHEMA = SchemaCheck.load(SchemaCheck.STATUS_V1);

    private Statuses() {
    }

    /** The status of VM {@code vm} in the student directory {@code dir}, if its file is there. */
    public static Optional<VmStatus> read(Path dir, String vm) {
        Path file = dir.resolve(StatusFiles.DIRECTORY).resolve(StatusFiles.yamlName(vm));
        byte[] bytes;
        try {
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                return Optional.empty();
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            return Optional.empty();  // renamed over while read: the next look sees the new one
        }
        Parsed<YamlDocument> yaml = SafeYaml.parse(vm + ".yaml", bytes);
        if (!yaml.isOk()) {
            return Optional.empty();
        }
        List<Problem> problems = SCHEMA.check(yaml.orThrow());
        assertEquals(List.of(), problems, "the status of " + vm + " in " + dir + " does not follow the status schema:\n"
                + new String(bytes, java.nio.charset.StandardCharsets.UTF_8));
        return StatusFiles.fromYaml(vm + ".yaml", bytes);
    }

    /** Waits until the status of {@code vm} shows {@code phase}; the failure says what it showed instead. */
    public static VmStatus awaitPhase(Path dir, String vm, Phase phase, Duration within) {
        try {
            await().atMost(within).until(() -> read(dir, vm).map(s -> s.phase() == phase).orElse(false));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError(dir + ": " + vm + " is not " + phase + " after " + within + ": "
                    + read(dir, vm).map(s -> s.phase() + ": " + s.message()).orElse("no status"), e);
        }
        return read(dir, vm).orElseThrow();
    }
}
