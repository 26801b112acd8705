package org.ievirsh.api.v1;

import com.fasterxml.jackson.databind.JsonNode;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.ievirsh.api.Parsed;
import org.ievirsh.api.Problem;
import org.ievirsh.api.schema.SchemaCheck;
import org.ievirsh.api.yaml.Location;
import org.ievirsh.api.yaml.SafeYaml;
import org.ievirsh.api.yaml.YamlDocument;

/**
 * VirtualMachineFile is one student file {@code <name>.yaml} read and checked
 * against the VirtualMachine v1 schema. It keeps the document so that later
 * checks (template limits, the image) can point at the line of a field; a
 * copy kept in a cache may drop it ({@link #withoutDocument}).
 */
public record VirtualMachineFile(String fileName, String specHash, VirtualMachine vm, YamlDocument document) {

    private static final SchemaCheck SCHEMA = SchemaCheck.load(SchemaCheck.VIRTUAL_MACHINE_V1);

    /**
     * Reads {@code bytes} as the file {@code fileName}; the VM's name is the
     * file's base name. Every problem found is returned, not only the first.
     */
    public static Parsed<VirtualMachineFile> parse(String fileName, byte[] bytes) {
        String name = baseName(fileName);
        if (name == null) {
            return Parsed.failed(Problem.ofFile(fileName, "a VM file is named <name>.yaml or <name>.yml"));
        }
        if (!VirtualMachine.isValidName(name)) {
            return Parsed.failed(Problem.ofFile(fileName, "the file name makes the VM name " + SafeYaml.quote(name)
                    + ", which is not valid: use lower-case letters, digits and '-', 1 to 32 characters,"
                    + " starting and ending with a letter or digit (rename the file)"));
        }
        Parsed<YamlDocument> yaml = SafeYaml.parse(fileName, bytes);
        if (!yaml.isOk()) {
            return yaml.asFailed();
        }
        YamlDocument document = yaml.orThrow();
        List<Problem> problems = SCHEMA.check(document);
        if (!problems.isEmpty()) {
            return Parsed.failed(problems);
        }
        JsonNode root = document.root();
        JsonNode metadataName = root.path("metadata").path("name");
        if (metadataName.isTextual() && !metadataName.asText().equals(name)) {
            Location at = document.locate("/metadata/name");
            return Parsed.failed(new Problem(fileName, at.value().line(), at.value().column(), at.path(),
                    SafeYaml.quote(metadataName.asText()) + " differs from the file name; write " + name
                            + " or remove metadata.name"));
        }
        JsonNode spec = root.path("spec");
        VirtualMachine vm = new VirtualMachine(
                name,
                text(spec, "template"),
                spec.path("image").asText(),
                text(spec, "runStrategy").map(RunStrategy::valueOf).orElse(RunStrategy.Always),
                spec.has("vcpus") ? OptionalInt.of(spec.path("vcpus").asInt()) : OptionalInt.empty(),
                spec.has("memory")
                        ? OptionalLong.of(Quantities.parseBytes(spec.path("memory").asText()))
                        : OptionalLong.empty(),
                text(spec, "description"));
        return Parsed.ok(new VirtualMachineFile(fileName, hash(bytes), vm, document));
    }

    /**
     * This file without its parsed document, to keep in memory: the document
     * is only needed to point at a field's line, and can be read again.
     */
    public VirtualMachineFile withoutDocument() {
        return new VirtualMachineFile(fileName, specHash, vm, null);
    }

    /** The VM name of a file name, or null if it does not end in .yaml or .yml. */
    public static String baseName(String fileName) {
        if (fileName.endsWith(".yaml")) {
            return fileName.substring(0, fileName.length() - 5);
        }
        if (fileName.endsWith(".yml")) {
            return fileName.substring(0, fileName.length() - 4);
        }
        return null;
    }

    /** {@code sha256:} and the hex SHA-256 of the bytes: the observedSpecHash of the status. */
    public static String hash(byte[] bytes) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The schema this file is checked against, for editors and {@code ie-virsh schema}. */
    public static SchemaCheck schema() {
        return SCHEMA;
    }

    private static Optional<String> text(JsonNode node, String field) {
        JsonNode value = node.path(field);
        return value.isTextual() ? Optional.of(value.asText()) : Optional.empty();
    }
}
