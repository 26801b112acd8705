package org.ievirsh.cli;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.ievirsh.api.Parsed;
import org.ievirsh.api.Problem;
import org.ievirsh.api.yaml.Location;
import org.ievirsh.api.yaml.SafeYaml;
import org.ievirsh.api.yaml.YamlDocument;

/**
 * RunStrategyEditor changes the one line of a VM file that holds
 * {@code runStrategy}, and nothing else: the student's comments, order and
 * layout stay as they wrote them. Without such a line, one is added right
 * under {@code spec:} with the indentation of its other fields.
 */
final class RunStrategyEditor {
    private RunStrategyEditor() {
    }

    /** The file's text with runStrategy set to {@code strategy}; problems when it cannot be edited by line. */
    static Parsed<String> set(String fileName, String text, String strategy) {
        Parsed<YamlDocument> parsed = SafeYaml.parse(fileName, text.getBytes(StandardCharsets.UTF_8));
        if (!parsed.isOk()) {
            return parsed.asFailed();
        }
        YamlDocument doc = parsed.orThrow();
        if (!doc.root().path("spec").isObject()) {
            return Parsed.failed(Problem.ofFile(fileName, "it has no spec: mapping to set runStrategy in"));
        }
        List<String> lines = new ArrayList<>(text.lines().toList());
        Location spec = doc.locate("/spec");
        Location existing = doc.locations().get("/spec/runStrategy");
        if (existing != null) {
            int line = existing.value().line() - 1;
            String current = lines.get(line);
            int start = existing.value().column() - 1;
            int end = scalarEnd(current, start);
            if (end < 0 || existing.key().line() != existing.value().line()) {
                return Parsed.failed(Problem.ofFile(fileName, "its runStrategy is not on one line; edit it by hand"));
            }
            lines.set(line, current.substring(0, start) + strategy + current.substring(end));
        } else {
            if (spec.value().line() == spec.key().line()) {
                return Parsed.failed(Problem.ofFile(fileName, "its spec is written on one line; add"
                        + " runStrategy: " + strategy + " by hand"));
            }
            Location firstField = doc.locate("/spec/" + doc.root().path("spec").fieldNames().next());
            String indent = " ".repeat(firstField.key().column() - 1);
            lines.add(spec.key().line(), indent + "runStrategy: " + strategy);
        }
        String edited = String.join("\n", lines) + (text.endsWith("\n") ? "\n" : "");
        return Parsed.ok(edited);
    }

    /** End of the plain or quoted scalar starting at {@code start}: before a comment or the line's end. */
    private static int scalarEnd(String line, int start) {
        if (start >= line.length()) {
            return -1;
        }
        char quote = line.charAt(start);
        if (quote == '"' || quote == '\'') {
            int close = line.indexOf(quote, start + 1);
            return close < 0 ? -1 : close + 1;
        }
        int end = start;
        while (end < line.length() && !(line.charAt(end) == ' ' && (end + 1 < line.length()
                && line.charAt(end + 1) == '#')) && line.charAt(end) != '\t') {
            end++;
        }
        while (end > start && line.charAt(end - 1) == ' ') {
            end--;
        }
        return end;
    }
}
