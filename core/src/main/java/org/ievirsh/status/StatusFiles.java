package org.ievirsh.status;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.ievirsh.api.Parsed;
import org.ievirsh.api.v1.Condition;
import org.ievirsh.api.v1.VmStatus;
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

    /**
     * The YAML text of a status, with a comment that tells the student not to
     * edit it. Written by hand, not by a YAML library: it is on the hot path of
     * every status written, and its shape is fixed. Every text is double-quoted
     * (a MAC address or a time written bare would read back as a YAML 1.1
     * number); fields with no value are left out.
     */
    public static byte[] toYaml(VmStatus status) {
        StringBuilder y = new StringBuilder(1024);
        y.append("# Written by ie-virsh; edits here are overwritten. Read it with: ie-virsh status ")
                .append(status.name()).append('\n');
        text(y, "", "name", status.name());
        if (status.owner() != null) {
            y.append("owner:\n");
            text(y, "  ", "user", status.owner().user());
            y.append("  uid: ").append(status.owner().uid()).append('\n');
        }
        text(y, "", "phase", status.phase() == null ? null : status.phase().name());
        text(y, "", "message", status.message());
        if (status.conditions() != null) {
            y.append("conditions:\n");
            for (Condition c : status.conditions()) {
                y.append("- ");
                text(y, "", "type", c.type());
                text(y, "  ", "status", c.status());
                text(y, "  ", "reason", c.reason());
                text(y, "  ", "message", c.message());
                text(y, "  ", "lastTransitionTime", c.lastTransitionTime());
            }
        }
        text(y, "", "blade", status.blade());
        text(y, "", "domain", status.domain());
        text(y, "", "uuid", status.uuid());
        text(y, "", "mac", status.mac());
        text(y, "", "ip", status.ip());
        if (status.addresses() != null && !status.addresses().isEmpty()) {
            y.append("addresses:\n");
            for (VmStatus.Address a : status.addresses()) {
                y.append("- ");
                text(y, "", "ip", a.ip());
                text(y, "  ", "mac", a.mac());
                text(y, "  ", "source", a.source());
            }
        }
        if (status.vcpus() != null) {
            y.append("vcpus: ").append(status.vcpus()).append('\n');
        }
        text(y, "", "memory", status.memory());
        text(y, "", "template", status.template());
        text(y, "", "image", status.image());
        text(y, "", "expires", status.expires());
        text(y, "", "firstBoot", status.firstBoot());
        text(y, "", "course", status.course());
        text(y, "", "observedSpecHash", status.observedSpecHash());
        text(y, "", "updatedAt", status.updatedAt());
        return y.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void text(StringBuilder y, String indent, String key, String value) {
        if (value == null) {
            return;
        }
        y.append(indent).append(key).append(": \"");
        if (printableAscii(value)) {
            // Most texts (names, hashes, times, paths) need no escape: one copy instead of one per character.
            y.append(value).append("\"\n");
            return;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"': y.append("\\\""); break;
                case '\\': y.append("\\\\"); break;
                case '\n': y.append("\\n"); break;
                case '\t': y.append("\\t"); break;
                default:
                    if (yamlPrintable(value, i)) {
                        y.append(c);
                    } else if (Character.isSurrogate(c)) {
                        y.append("\\ufffd");  // half a character: UTF-8 cannot carry it
                    } else {
                        y.append(String.format("\\u%04x", (int) c));
                    }
            }
        }
        y.append("\"\n");
    }

    /**
     * True when the character at {@code i} may stand as itself in a YAML
     * double-quoted scalar: YAML's printable set (no C0 or C1 control, no
     * U+FFFE or U+FFFF, no lone surrogate), less the characters that YAML 1.1
     * reads as line breaks and folds (NEL, U+2028, U+2029) and the byte-order
     * mark. A student's text (a value echoed in a message) may hold any of
     * them; written raw, the file would no longer read back.
     */
    private static boolean yamlPrintable(String value, int i) {
        char c = value.charAt(i);
        if (c < 0x20 || c >= 0x7f && c <= 0x9f || c == 0x2028 || c == 0x2029 || c == 0xfeff || c >= 0xfffe) {
            return false;
        }
        if (Character.isHighSurrogate(c)) {
            return i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1));
        }
        if (Character.isLowSurrogate(c)) {
            return i > 0 && Character.isHighSurrogate(value.charAt(i - 1));
        }
        return true;
    }

    private static boolean printableAscii(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
                return false;
            }
        }
        return true;
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
