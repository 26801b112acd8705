package org.ievirsh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The one jar holds every command: the demo's and the benchmarks' modules add theirs to the core's, which cannot
 * name them. This module sees all three, as the jar does.
 */
class AddedCommandsTest {
    @Test
    void theDemoAndTheBenchmarksAreCommandsOfTheOneJar() {
        CommandLine line = Main.commandLine();
        Set<String> names = line.getSubcommands().keySet();
        assertTrue(names.containsAll(List.of("demo", "bench", "controller", "define", "help")), names.toString());
        List<String> order = List.copyOf(names);
        assertEquals("help", order.get(order.size() - 1), "help comes last, after the added commands");
    }

    @Test
    void anAddedCommandRunsAndReportsWrongUsageAsEveryCommandDoes() {
        assertEquals(0, Main.run("demo", "--help"));
        assertEquals(2, Main.run("bench", "no-such-scenario"));
    }
}
