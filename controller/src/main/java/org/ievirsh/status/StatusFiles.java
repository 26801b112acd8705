package org.ievirsh.status;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.ievirsh.api.Parsed;
import org.ievirsh.api.yaml.SafeYaml;
import org.ievirsh.api.yaml.YamlDocument;

/**
 * StatusFiles turns statuses into the text of {@code .status/<name>.yaml}
 * and back. Reading goes through the hardened YAML reader: the student owns
 * these files and may have put anything in them.
 */
public final class StatusFiles {
    /** DIRECTORY is the subdirectory of a student's directory that holds statuses. */
    public static final String DIRECTORY = ".status";

    // Every text is quoted: a MAC address or a time written bare would read back as a YAML 1.1 number.
    private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .disable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .build())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
    private static final ObjectMapper JSON = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private StatusFiles() {
    }

    public static String yamlName(String vm) {
        return vm + ".yaml";
    }

    public static String xmlName(String vm) {
        return vm + ".xml";
    }

    /** The YAML text of a status, with a comment that tells the student not to edit it. */
    public static byte[] toYaml(VmStatus status) {
        try {
            return ("# Written by ie-virsh; edits here are overwritten. Read it with: ie-virsh status "
                    + status.name() + "\n" + YAML.writeValueAsString(status)).getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A status read back from its file; empty when the file is not a status (any more). */
    public static Optional<VmStatus> fromYaml(String fileName, byte[] bytes) {
        Parsed<YamlDocument> parsed = SafeYaml.parse(fileName, bytes);
        if (!parsed.isOk()) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.treeToValue(parsed.orThrow().root(), VmStatus.class));
        } catch (JsonProcessingException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** The mapper that writes statuses as JSON (the HTTP API, {@code --output json}). */
    public static ObjectMapper json() {
        return JSON;
    }
}
