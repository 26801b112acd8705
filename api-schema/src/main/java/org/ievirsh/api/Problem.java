package org.ievirsh.api;

/**
 * Problem is one thing wrong with a file, in the form a student can act on:
 * {@code web.yaml:7:11: spec.memory: 64GiB exceeds the template maximum 4GiB}.
 *
 * <p>{@code line} and {@code column} count from 1; 0 means the problem concerns
 * the whole file. {@code path} is the dotted field path ({@code spec.memory}),
 * empty for problems that are not about one field.
 */
public record Problem(String file, int line, int column, String path, String message) {

    /** Problem of the whole file, with no position. */
    public static Problem ofFile(String file, String message) {
        return new Problem(file, 0, 0, "", message);
    }

    /** Text of this problem as the status, the CLI and the log show it. */
    @Override
    public String toString() {
        StringBuilder text = new StringBuilder(file);
        if (line > 0) {
            text.append(':').append(line).append(':').append(column);
        }
        text.append(": ");
        if (!path.isEmpty()) {
            text.append(path).append(": ");
        }
        return text.append(message).toString();
    }
}
