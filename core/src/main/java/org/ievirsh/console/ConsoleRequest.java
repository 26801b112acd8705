package org.ievirsh.console;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * ConsoleRequest is the one line a caller sends the console socket, parsed:
 * nothing in it is trusted beyond these shapes (a user name, VM, course and
 * label each match a strict pattern; anything else is {@link Bad}).
 */
sealed interface ConsoleRequest {
    String NAME = "[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?";
    Pattern CONSOLE = Pattern.compile(
            "CONSOLE (?:([A-Za-z0-9_][A-Za-z0-9_.-]{0,63})/)?([a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?)( FORCE)?");
    Pattern LIST = Pattern.compile("LIST (" + NAME + ")");
    Pattern SNAPSHOT = Pattern.compile("(SNAPSHOT|REVERT|DELETE-SNAPSHOT) (" + NAME + ") (" + NAME + ")|SNAPSHOTS ("
            + NAME + ")");

    /** {@code CONSOLE [user/]vm[ FORCE]}; {@code user} is null when the caller names their own VM. */
    record Console(String user, String vm, boolean force) implements ConsoleRequest {
    }

    /** {@code LIST course}. */
    record ListCourse(String course) implements ConsoleRequest {
    }

    /** {@code SNAPSHOT|REVERT|DELETE-SNAPSHOT vm label}, or {@code SNAPSHOTS vm} (label null). */
    record Snapshot(String op, String vm, String label) implements ConsoleRequest {
    }

    /** Anything else. */
    record Bad() implements ConsoleRequest {
    }

    static ConsoleRequest parse(String line) {
        Matcher list = LIST.matcher(line);
        if (list.matches()) {
            return new ListCourse(list.group(1));
        }
        Matcher snapshot = SNAPSHOT.matcher(line);
        if (snapshot.matches()) {
            return snapshot.group(4) != null ? new Snapshot("SNAPSHOTS", snapshot.group(4), null)
                    : new Snapshot(snapshot.group(1), snapshot.group(2), snapshot.group(3));
        }
        Matcher console = CONSOLE.matcher(line);
        if (console.matches()) {
            return new Console(console.group(1), console.group(2), console.group(4) != null);
        }
        return new Bad();
    }
}
