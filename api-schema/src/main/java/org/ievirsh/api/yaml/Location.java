package org.ievirsh.api.yaml;

/**
 * Location is where one node of a YAML document was written.
 *
 * @param path  the dotted path a student reads, like {@code spec.memory} or {@code blades[1].uri}
 * @param key   where its key starts (the value's own mark for the root and for list items)
 * @param value where its value starts
 */
public record Location(String path, Mark key, Mark value) {
}
