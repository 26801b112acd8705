package org.ievirsh.demo;

import java.io.PrintStream;
import java.util.HashMap;
import java.util.Map;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.status.StatusBook;

/** Narrator prints each change of a VM's phase or message as it happens, one line each. */
final class Narrator {
    private final StatusBook book;
    private final PrintStream out;
    private final Map<String, String> last = new HashMap<>();

    Narrator(StatusBook book, PrintStream out) {
        this.book = book;
        this.out = out;
    }

    /** Prints what changed since the last call; returns how many lines it printed. */
    int tell() {
        int lines = 0;
        Map<String, String> now = new HashMap<>();
        for (VmStatus s : book.all()) {
            String key = s.owner().user() + "/" + s.name();
            String line = String.format("%-14s %-16s %-8s %s", key, s.phase(), s.blade() == null ? "-" : s.blade(),
                    s.message() == null ? "" : s.message());
            now.put(key, line);
            if (!line.equals(last.get(key))) {
                out.println("  " + line);
                lines++;
            }
        }
        for (String gone : last.keySet()) {
            if (!now.containsKey(gone)) {
                out.println("  " + String.format("%-14s %s", gone, "(gone)"));
                lines++;
            }
        }
        last.clear();
        last.putAll(now);
        return lines;
    }
}
