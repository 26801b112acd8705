package org.ievirsh.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.PrintStream;
import java.util.List;
import org.ievirsh.status.StatusFiles;

/** Output prints tables for people and YAML or JSON for scripts. */
final class Output {
    private Output() {
    }

    /** Prints {@code value} as yaml or json; exit code 2 for an unknown format. */
    static int print(Object value, String format) throws JsonProcessingException {
        switch (format) {
            case "json":
                System.out.println(StatusFiles.json().writerWithDefaultPrettyPrinter().writeValueAsString(value));
                return 0;
            case "yaml":
                System.out.print(new ObjectMapper(new YAMLFactory()).writeValueAsString(value));
                return 0;
            default:
                System.err.println("ie-virsh: --output takes table, yaml or json, not " + format);
                return 2;
        }
    }

    /**
     * Prints aligned columns; on a terminal the last column is cut to its
     * width. Every cell is shown safe first: a control character (a file
     * name may hold terminal escapes) is printed as {@code \xNN}.
     */
    static void table(List<String[]> raw, PrintStream out) {
        List<String[]> rows = new java.util.ArrayList<>();
        for (String[] row : raw) {
            String[] safe = new String[row.length];
            for (int i = 0; i < row.length; i++) {
                safe[i] = printable(row[i]);
            }
            rows.add(safe);
        }
        int columns = rows.get(0).length;
        int[] widths = new int[columns];
        for (String[] row : rows) {
            for (int i = 0; i < columns - 1; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        int width = terminalWidth();
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < columns - 1; i++) {
                line.append(String.format("%-" + widths[i] + "s  ", row[i]));
            }
            String last = row[columns - 1];
            if (width > 0 && line.length() + last.length() > width) {
                int room = Math.max(10, width - line.length());
                last = last.length() > room ? last.substring(0, Math.max(0, room - 3)) + "..." : last;
            }
            out.println(line.append(last).toString().stripTrailing());
        }
    }

    /**
     * {@code text} with every control character (C0, DEL, C1) written as
     * {@code \xNN}, and the Unicode line and paragraph separators as
     * {@code \u2028} and {@code \u2029}: a terminal obeys the first, a log
     * reader may break a line at the second.
     */
    static String printable(String text) {
        StringBuilder b = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c >= 0x7f && c <= 0x9f) {
                b.append(String.format("\\x%02x", (int) c));
            } else if (c == 0x2028 || c == 0x2029) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** The terminal's width, or 0 when the output is not a terminal (never cut what scripts read). */
    private static int terminalWidth() {
        if (System.console() == null) {
            return 0;
        }
        try {
            return Integer.parseInt(System.getenv().getOrDefault("COLUMNS", "120"));
        } catch (NumberFormatException e) {
            return 120;
        }
    }
}
