package org.ievirsh.api.yaml;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/**
 * YamlDocument is a parsed YAML file: a JSON tree (what the schema checks) and
 * where every node of it was written, keyed by JSON Pointer ({@code /spec/memory}).
 */
public record YamlDocument(String fileName, JsonNode root, Map<String, Location> locations) {

    /** Location of the node at {@code pointer}, or of its nearest written ancestor. */
    public Location locate(String pointer) {
        String current = pointer;
        while (true) {
            Location found = locations.get(current);
            if (found != null) {
                return found;
            }
            if (current.isEmpty()) {
                return new Location("", Mark.NONE, Mark.NONE);
            }
            current = current.substring(0, Math.max(0, current.lastIndexOf('/')));
        }
    }

    /** JSON Pointer of a path given as names and indexes, escaped as RFC 6901 says. */
    public static String pointer(List<?> segments) {
        StringBuilder pointer = new StringBuilder();
        for (Object segment : segments) {
            pointer.append('/').append(segment.toString().replace("~", "~0").replace("/", "~1"));
        }
        return pointer.toString();
    }
}
