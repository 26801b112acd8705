package org.ievirsh.api.yaml;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.StringReader;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;
import org.ievirsh.api.Parsed;
import org.ievirsh.api.Problem;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.composer.Composer;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.parser.ParserImpl;
import org.yaml.snakeyaml.reader.StreamReader;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * SafeYaml reads YAML written by someone we do not trust into a JSON tree
 * with positions.
 *
 * <p>It only composes the document (no object construction, so no arbitrary
 * types), refuses files over {@link #MAX_BYTES} before parsing, refuses text
 * that is not UTF-8, duplicate keys, merge keys, custom tags and non-decimal
 * numbers, and bounds nesting and alias expansion: a "billion laughs" file is
 * a problem, not an out-of-memory.
 */
public final class SafeYaml {
    /** MAX_BYTES is the largest file read at all: 64 KiB. */
    public static final int MAX_BYTES = 64 * 1024;
    /** MAX_NODES bounds the tree after alias expansion. */
    static final int MAX_NODES = 10_000;
    static final int MAX_DEPTH = 32;
    static final int MAX_ALIASES = 16;

    private static final Pattern DECIMAL_INTEGER = Pattern.compile("[-+]?(0|[1-9][0-9]*)");
    private static final Pattern DECIMAL_FLOAT =
            Pattern.compile("[-+]?([0-9]+\\.[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?|[-+]?[0-9]+[eE][-+]?[0-9]+");
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    /**
     * The tag resolver, one for all parses: it is filled once (some twenty
     * patterns) and only read after that, from any thread.
     */
    private static final Resolver RESOLVER = new Resolver();

    private SafeYaml() {
    }

    /** Parses one YAML document; {@code fileName} only names the file in problems. */
    public static Parsed<YamlDocument> parse(String fileName, byte[] bytes) {
        if (bytes.length > MAX_BYTES) {
            return Parsed.failed(Problem.ofFile(fileName,
                    "the file has " + bytes.length + " bytes; at most " + MAX_BYTES + " are read"));
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return Parsed.failed(Problem.ofFile(fileName, "the file is not UTF-8 text; save it as UTF-8"));
        }
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        Node root;
        try {
            root = compose(text);
        } catch (MarkedYAMLException e) {
            org.yaml.snakeyaml.error.Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            int line = mark == null ? 0 : mark.getLine() + 1;
            int column = mark == null ? 0 : mark.getColumn() + 1;
            return Parsed.failed(new Problem(fileName, line, column, "", "YAML syntax: " + describe(e)));
        } catch (YAMLException e) {
            return Parsed.failed(Problem.ofFile(fileName, "YAML: " + limitedMessage(e.getMessage())));
        }
        if (root == null) {
            return Parsed.failed(Problem.ofFile(fileName, "the file is empty"));
        }
        Walk walk = new Walk(fileName);
        JsonNode tree;
        try {
            tree = walk.convert(root, "", "", null, 0);
        } catch (Refused refused) {
            return Parsed.failed(refused.problem);
        }
        return Parsed.ok(new YamlDocument(fileName, tree, Map.copyOf(walk.locations)));
    }

    private static Node compose(String text) {
        LoaderOptions options = new LoaderOptions();
        options.setMaxAliasesForCollections(MAX_ALIASES);
        options.setNestingDepthLimit(MAX_DEPTH);
        options.setCodePointLimit(MAX_BYTES + 1);
        options.setAllowRecursiveKeys(false);
        options.setAllowDuplicateKeys(false);
        options.setProcessComments(false);
        Composer composer = new Composer(
                new ParserImpl(new StreamReader(new StringReader(text)), options), RESOLVER, options);
        return composer.getSingleNode();
    }

    private static String describe(MarkedYAMLException e) {
        String problem = e.getProblem() != null ? e.getProblem() : e.getContext();
        return limitedMessage(problem == null ? "cannot be read" : problem);
    }

    /** Keeps a parser message to its first line and a sane length: never echo the file back at length. */
    private static String limitedMessage(String message) {
        if (message == null) {
            return "cannot be read";
        }
        String firstLine = message.lines().findFirst().orElse("").strip();
        return firstLine.length() > 160 ? firstLine.substring(0, 160) + "..." : firstLine;
    }

    /** Quotes a student's text for a message: cut short, control characters made visible. */
    public static String quote(String text) {
        StringBuilder quoted = new StringBuilder("\"");
        int limit = Math.min(text.length(), 48);
        for (int i = 0; i < limit; i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                quoted.append(String.format("\\x%02x", (int) c));
            } else if (c == '"' || c == '\\') {
                quoted.append('\\').append(c);
            } else {
                quoted.append(c);
            }
        }
        if (text.length() > limit) {
            quoted.append("...");
        }
        return quoted.append('"').toString();
    }

    private static Mark mark(Node node) {
        return Mark.of(node.getStartMark().getLine() + 1, node.getStartMark().getColumn() + 1);
    }

    /** One conversion of a composed graph; counts nodes so that aliases cannot multiply them. */
    private static final class Walk {
        private final String fileName;
        private final Map<String, Location> locations = new HashMap<>();
        private int nodes;

        Walk(String fileName) {
            this.fileName = fileName;
        }

        JsonNode convert(Node node, String pointer, String path, Mark keyMark, int depth) {
            if (++nodes > MAX_NODES || depth > MAX_DEPTH) {
                throw refuse(node, path, "the document is too large or too deeply nested once its aliases are"
                        + " expanded (more than " + MAX_NODES + " values); write it out without anchors");
            }
            Mark valueMark = mark(node);
            locations.put(pointer, new Location(path, keyMark == null ? valueMark : keyMark, valueMark));
            if (node instanceof MappingNode mapping) {
                return convertMapping(mapping, pointer, path, depth);
            }
            if (node instanceof SequenceNode sequence) {
                ArrayNode array = JSON.arrayNode();
                int index = 0;
                for (Node item : sequence.getValue()) {
                    array.add(convert(item, pointer + "/" + index, path + "[" + index + "]", null, depth + 1));
                    index++;
                }
                return array;
            }
            return convertScalar((ScalarNode) node, path);
        }

        private ObjectNode convertMapping(MappingNode mapping, String pointer, String path, int depth) {
            ObjectNode object = JSON.objectNode();
            Map<String, Mark> seen = new HashMap<>();
            for (NodeTuple tuple : mapping.getValue()) {
                Node keyNode = tuple.getKeyNode();
                if (!(keyNode instanceof ScalarNode scalarKey)) {
                    throw refuse(keyNode, path, "a key must be a plain word, not a list or a mapping");
                }
                if (Tag.MERGE.equals(keyNode.getTag())) {
                    throw refuse(keyNode, path, "merge keys (<<) are not supported; write the fields out");
                }
                String key = scalarKey.getValue();
                Mark keyMark = mark(keyNode);
                String childPath = path.isEmpty() ? key : path + "." + key;
                Mark first = seen.putIfAbsent(key, keyMark);
                if (first != null) {
                    throw refuse(keyNode, childPath, "duplicate key; it is already set on line " + first.line());
                }
                String childPointer = pointer + "/" + key.replace("~", "~0").replace("/", "~1");
                object.set(key, convert(tuple.getValueNode(), childPointer, childPath, keyMark, depth + 1));
            }
            return object;
        }

        private JsonNode convertScalar(ScalarNode scalar, String path) {
            Tag tag = scalar.getTag();
            String value = scalar.getValue();
            if (Tag.STR.equals(tag) || Tag.TIMESTAMP.equals(tag)) {
                return JSON.textNode(value);
            }
            if (Tag.NULL.equals(tag)) {
                return JSON.nullNode();
            }
            if (Tag.BOOL.equals(tag)) {
                // YAML 1.1 also reads yes/no/on/off as booleans; we keep those as text so
                // that "no" never silently turns into false.
                if (value.equalsIgnoreCase("true") || value.equalsIgnoreCase("false")) {
                    return JSON.booleanNode(Boolean.parseBoolean(value.toLowerCase()));
                }
                return JSON.textNode(value);
            }
            if (Tag.INT.equals(tag)) {
                if (!DECIMAL_INTEGER.matcher(value).matches()) {
                    throw refuse(scalar, path, quote(value) + " is not a plain decimal number; write it like 10"
                            + " (no leading zero, 0x, 0o or _), or quote it to make it text");
                }
                BigInteger number = new BigInteger(value);
                return number.bitLength() < 63 ? JSON.numberNode(number.longValueExact()) : JSON.numberNode(number);
            }
            if (Tag.FLOAT.equals(tag)) {
                if (!DECIMAL_FLOAT.matcher(value).matches()) {
                    throw refuse(scalar, path, quote(value) + " is not a plain decimal number");
                }
                return JSON.numberNode(new java.math.BigDecimal(value));
            }
            throw refuse(scalar, path, "the tag " + quote(tag.getValue()) + " is not supported; remove it");
        }

        private Refused refuse(Node node, String path, String message) {
            Mark at = mark(node);
            return new Refused(new Problem(fileName, at.line(), at.column(), path, message));
        }
    }

    /** Refused stops a walk at the first node that cannot be accepted. */
    private static final class Refused extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final transient Problem problem;

        Refused(Problem problem) {
            super(problem.toString(), null, false, false);
            this.problem = problem;
        }
    }
}
