package org.ievirsh.api.v1;

import com.fasterxml.jackson.databind.JsonNode;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
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
 * against the VirtualMachine v1 schema. It keeps where each field of the spec
 * was written ({@link #at}), so that later checks (template limits, the
 * admin's dates) can point at its line, but neither the document nor the
 * file's bytes: ten thousand students' files stay small in memory.
 *
 * @param positions where the fields of {@link #POSITIONS} were written, by JSON pointer
 */
public record VirtualMachineFile(String fileName, String specHash, VirtualMachine vm,
                                 Map<String, Location> positions) {

    /** POSITIONS are the fields whose place in the file is kept for later messages. */
    public static final List<String> POSITIONS = List.of("/spec", "/spec/template", "/spec/image", "/spec/vcpus",
            "/spec/memory", "/spec/expires", "/spec/baseImage", "/spec/disk", "/spec/course");

    private static final SchemaCheck SCHEMA = SchemaCheck.load(SchemaCheck.VIRTUAL_MACHINE_V1);

    /**
     * Reads {@code bytes} as the file {@code fileName}; the VM's name is the
     * file's base name. Every problem found is returned, not only the first.
     * Nothing a student writes makes it throw.
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
            return Parsed.failed(at(document, "/metadata/name", SafeYaml.quote(metadataName.asText())
                    + " differs from the file name; write " + name + " or remove metadata.name"));
        }
        JsonNode spec = root.path("spec");
        OptionalLong memory = OptionalLong.empty();
        if (spec.has("memory")) {
            try {
                memory = OptionalLong.of(Quantities.parseBytes(spec.path("memory").asText()));
            } catch (ArithmeticException | IllegalArgumentException e) {
                return Parsed.failed(at(document, "/spec/memory", spec.path("memory").asText()
                        + " is far too large; write a size like 2GiB"));
            }
        }
        OptionalLong disk = OptionalLong.empty();
        if (spec.has("disk")) {
            try {
                disk = OptionalLong.of(Quantities.parseBytes(spec.path("disk").asText()));
            } catch (ArithmeticException | IllegalArgumentException e) {
                return Parsed.failed(at(document, "/spec/disk", spec.path("disk").asText()
                        + " is far too large; write a size like 20GiB"));
            }
        }
        Optional<String> baseImage = text(spec, "baseImage");
        if (!spec.has("image") && baseImage.isEmpty()) {
            return Parsed.failed(at(document, "/spec", "write spec.image (a disk image of yours) or spec.baseImage"
                    + " (one of the admin's bases: ie-virsh bases lists them)"));
        }
        if (spec.has("disk") && baseImage.isEmpty()) {
            return Parsed.failed(at(document, "/spec/disk", "it sizes the disk made from spec.baseImage;"
                    + " without a base, size your own image (qemu-img resize)"));
        }
        Optional<Expiry> expires = Optional.empty();
        if (spec.has("expires")) {
            Optional<Expiry> parsed = Expiry.parse(spec.path("expires").asText());
            if (parsed.isEmpty()) {
                return Parsed.failed(at(document, "/spec/expires", SafeYaml.quote(spec.path("expires").asText())
                        + " is not a date (2027-01-31) or an RFC 3339 time (2027-01-31T18:00:00+01:00)"));
            }
            expires = parsed;
        }
        VirtualMachine vm = new VirtualMachine(
                name,
                text(spec, "template"),
                spec.has("image") ? spec.path("image").asText() : name + ".qcow2",
                text(spec, "runStrategy").map(RunStrategy::valueOf).orElse(RunStrategy.Always),
                spec.has("vcpus") ? OptionalInt.of(spec.path("vcpus").asInt()) : OptionalInt.empty(),
                memory,
                text(spec, "description"),
                expires,
                baseImage,
                disk,
                text(spec, "firstBoot").map(VirtualMachine.FirstBoot::of),
                text(spec, "course"));
        Map<String, Location> positions = new HashMap<>();
        Map<Location, Location> kept = new IdentityHashMap<>();
        for (String pointer : POSITIONS) {
            // A missing field has its parent's location: kept once. Kept paths come from POSITIONS and their
            // parents, a handful of names: one copy of each for all files.
            positions.put(pointer, kept.computeIfAbsent(document.locate(pointer),
                    at -> new Location(at.path().intern(), at.key(), at.value())));
        }
        return Parsed.ok(new VirtualMachineFile(fileName, hash(bytes), vm, Map.copyOf(positions)));
    }

    /**
     * A problem with the field at {@code pointer} (one of {@link #POSITIONS}),
     * at its line and column.
     */
    public Problem at(String pointer, String message) {
        Location location = positions.get(pointer);
        if (location == null) {
            return Problem.ofFile(fileName, pointer.substring(1).replace('/', '.') + ": " + message);
        }
        return new Problem(fileName, location.value().line(), location.value().column(), location.path(), message);
    }

    private static Problem at(YamlDocument document, String pointer, String message) {
        Location location = document.locate(pointer);
        return new Problem(document.fileName(), location.value().line(), location.value().column(), location.path(),
                message);
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
