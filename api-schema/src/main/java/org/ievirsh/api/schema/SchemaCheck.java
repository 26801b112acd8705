package org.ievirsh.api.schema;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import com.networknt.schema.path.NodePath;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import org.ievirsh.api.Problem;
import org.ievirsh.api.yaml.Location;
import org.ievirsh.api.yaml.Mark;
import org.ievirsh.api.yaml.SafeYaml;
import org.ievirsh.api.yaml.YamlDocument;

/**
 * SchemaCheck checks a {@link YamlDocument} against one of the project's JSON
 * Schemas (draft 2020-12) and turns each failure into a {@link Problem} a
 * student can act on: file, line, column, field, what is wrong and what the
 * field expects (the schema's own {@code description}).
 *
 * <p>Built once per schema and shared: checking is thread-safe.
 */
public final class SchemaCheck {
    /** VIRTUAL_MACHINE_V1 is the resource path of the VirtualMachine v1 schema. */
    public static final String VIRTUAL_MACHINE_V1 = "/schemas/virtualmachine-v1.schema.json";
    /** STATUS_V1 is the resource path of the schema of status files (and of /api/v1/vms). */
    public static final String STATUS_V1 = "/schemas/status-v1.schema.json";
    /** CONTROLLER_CONFIG_V1 is the resource path of the controller configuration schema. */
    public static final String CONTROLLER_CONFIG_V1 = "/schemas/controller-config-v1.schema.json";

    private final JsonNode schemaJson;
    private final Schema schema;

    private SchemaCheck(JsonNode schemaJson) {
        this.schemaJson = schemaJson;
        this.schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(schemaJson);
    }

    /** Loads a schema shipped in this module, like {@link #VIRTUAL_MACHINE_V1}. */
    public static SchemaCheck load(String resource) {
        try (InputStream in = SchemaCheck.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no schema " + resource);
            }
            return new SchemaCheck(new ObjectMapper().readTree(in));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The schema's JSON text, for editors and the CLI. */
    public JsonNode schemaJson() {
        return schemaJson;
    }

    /** Problems of {@code document}, ordered by position; empty when it is valid. */
    public List<Problem> check(YamlDocument document) {
        Map<String, Problem> problems = new LinkedHashMap<>();
        for (Error error : schema.validate(document.root())) {
            Problem problem = describe(document, error);
            problems.putIfAbsent(problem.toString(), problem);
        }
        List<Problem> sorted = new ArrayList<>(problems.values());
        sorted.sort(Comparator.comparingInt(Problem::line).thenComparingInt(Problem::column));
        return sorted;
    }

    private Problem describe(YamlDocument document, Error error) {
        List<Object> segments = segments(error.getInstanceLocation());
        String pointer = YamlDocument.pointer(segments);
        Location at = document.locate(pointer);
        JsonNode subschema = schemaAt(segments);
        JsonNode instance = error.getInstanceNode();
        String keyword = error.getKeyword() == null ? "" : error.getKeyword();
        String file = document.fileName();
        switch (keyword) {
            case "additionalProperties": {
                String field = error.getProperty();
                Location fieldAt = document.locate(pointer + "/" + escape(field));
                return problem(file, fieldAt.key(), join(at.path(), field),
                        "unknown field" + allowedFields(subschema));
            }
            case "required": {
                String field = error.getProperty();
                return problem(file, at.key(), at.path(), "the field " + field + " is missing"
                        + hint(subschema.path("properties").path(field)));
            }
            case "type":
                return problem(file, at.value(), at.path(),
                        "must be " + article(subschema.path("type").asText()) + ", not " + typeOf(instance)
                                + hint(subschema));
            case "const":
                return problem(file, at.value(), at.path(),
                        "must be " + subschema.path("const").asText() + ", not " + show(instance));
            case "enum":
                return problem(file, at.value(), at.path(),
                        show(instance) + " must be one of " + list(subschema.path("enum")));
            case "minimum":
                return problem(file, at.value(), at.path(),
                        show(instance) + " is below the minimum " + subschema.path("minimum").asText());
            case "maximum":
                return problem(file, at.value(), at.path(),
                        show(instance) + " is above the maximum " + subschema.path("maximum").asText());
            case "maxLength":
                return problem(file, at.value(), at.path(), "has " + instance.asText().length()
                        + " characters; at most " + subschema.path("maxLength").asText() + " are allowed");
            case "minItems":
                return problem(file, at.value(), at.path(),
                        "needs at least " + subschema.path("minItems").asText() + " entries");
            case "pattern":
            case "oneOf":
                return problem(file, at.value(), at.path(), show(instance) + " is not valid" + hint(subschema));
            default:
                return problem(file, at.value(), at.path(), error.getMessage());
        }
    }

    private static Problem problem(String file, Mark mark, String path, String message) {
        return new Problem(file, mark.line(), mark.column(), path, message);
    }

    private static List<Object> segments(NodePath path) {
        List<Object> segments = new ArrayList<>();
        for (int i = 0; i < path.getNameCount(); i++) {
            segments.add(path.getElement(i));
        }
        return segments;
    }

    /** Subschema that governs the instance at {@code segments}, following properties, items and $ref. */
    private JsonNode schemaAt(List<Object> segments) {
        JsonNode current = resolve(schemaJson);
        for (Object segment : segments) {
            JsonNode next;
            if (segment instanceof Integer) {
                next = current.path("items");
            } else if (current.path("properties").has(segment.toString())) {
                next = current.path("properties").path(segment.toString());
            } else {
                next = current.path("additionalProperties");
            }
            current = resolve(next);
        }
        return current;
    }

    private JsonNode resolve(JsonNode node) {
        JsonNode current = node;
        for (int hops = 0; hops < 8 && current.has("$ref"); hops++) {
            String ref = current.path("$ref").asText();
            if (!ref.startsWith("#")) {
                break;
            }
            current = schemaJson.at(ref.substring(1));
        }
        return current;
    }

    private static String allowedFields(JsonNode objectSchema) {
        StringJoiner names = new StringJoiner(", ");
        for (Iterator<String> it = objectSchema.path("properties").fieldNames(); it.hasNext(); ) {
            names.add(it.next());
        }
        return names.length() == 0 ? "" : "; allowed here: " + names;
    }

    private static String hint(JsonNode subschema) {
        String description = subschema.path("description").asText("");
        return description.isEmpty() ? "" : ": " + description;
    }

    private static String join(String path, String field) {
        return path.isEmpty() ? field : path + "." + field;
    }

    private static String escape(String field) {
        return field.replace("~", "~0").replace("/", "~1");
    }

    private static String list(JsonNode values) {
        StringJoiner joined = new StringJoiner(", ");
        values.forEach(v -> joined.add(v.asText()));
        return joined.toString();
    }

    private static String article(String type) {
        switch (type) {
            case "integer": return "a whole number";
            case "number": return "a number";
            case "string": return "text";
            case "boolean": return "true or false";
            case "object": return "a mapping (field: value lines)";
            case "array": return "a list";
            default: return type;
        }
    }

    private static String typeOf(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return "empty";
        }
        if (node.isIntegralNumber()) {
            return "the number " + node.asText();
        }
        if (node.isNumber()) {
            return "the number " + node.asText();
        }
        if (node.isBoolean()) {
            return node.asText();
        }
        if (node.isTextual()) {
            return "the text " + SafeYaml.quote(node.asText());
        }
        if (node.isArray()) {
            return "a list";
        }
        return "a mapping";
    }

    private static String show(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return "an empty value";
        }
        if (node.isTextual()) {
            return SafeYaml.quote(node.asText());
        }
        if (node.isContainerNode()) {
            return node.isArray() ? "a list" : "a mapping";
        }
        return node.asText();
    }
}
