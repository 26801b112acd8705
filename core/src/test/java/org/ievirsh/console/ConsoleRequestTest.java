package org.ievirsh.console;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** ConsoleRequestTest: the request line's shapes, and hostile lines refused whole. */
class ConsoleRequestTest {
    @Test
    void eachShapeParses() {
        assertEquals(new ConsoleRequest.Console(null, "web", false), ConsoleRequest.parse("CONSOLE web"));
        assertEquals(new ConsoleRequest.Console("bob", "net101-router", true),
                ConsoleRequest.parse("CONSOLE bob/net101-router FORCE"));
        assertEquals(new ConsoleRequest.ListCourse("net101"), ConsoleRequest.parse("LIST net101"));
        assertEquals(new ConsoleRequest.Snapshot("SNAPSHOT", "web", "before-lab3"),
                ConsoleRequest.parse("SNAPSHOT web before-lab3"));
        assertEquals(new ConsoleRequest.Snapshot("DELETE-SNAPSHOT", "web", "x"),
                ConsoleRequest.parse("DELETE-SNAPSHOT web x"));
        assertEquals(new ConsoleRequest.Snapshot("SNAPSHOTS", "web", null), ConsoleRequest.parse("SNAPSHOTS web"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "CONSOLE", "CONSOLE ../etc", "CONSOLE web/../x", "CONSOLE Web", "CONSOLE web FORCE x",
        "CONSOLE -web", "CONSOLE web-", "CONSOLE a/b/c", "CONSOLE ../bob/web", "console web", " CONSOLE web",
        "CONSOLE web\u0000", "LIST", "LIST ../x", "SNAPSHOT web", "SNAPSHOT web ../../x", "REVERT web a b",
        "SNAPSHOTS web x", "CONSOLE aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})
    void anythingElseIsRefusedWhole(String line) {
        assertEquals(new ConsoleRequest.Bad(), ConsoleRequest.parse(line));
    }
}
