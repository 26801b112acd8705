package org.ievirsh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.time.ZoneId;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

class LogsTest {
    private static LogRecord record(Level level, String message, Instant at) {
        LogRecord record = new LogRecord(level, message);
        record.setInstant(at);
        return record;
    }

    @Test
    void aLineIsTheTimeToTheSecondWithItsOffsetThenTheLevelPaddedThenTheMessage() {
        Logs.Line line = new Logs.Line(ZoneId.of("UTC"));
        assertEquals("2026-12-04T01:16:57+0000 INFO    alice/web: started it on blade1" + System.lineSeparator(),
                line.format(record(Level.INFO, "alice/web: started it on blade1",
                        Instant.parse("2026-12-04T01:16:57.900Z"))));
        assertEquals("2026-12-04T02:16:58+0100 WARNING config: x" + System.lineSeparator(),
                new Logs.Line(ZoneId.of("+01:00")).format(record(Level.WARNING, "config: x",
                        Instant.parse("2026-12-04T01:16:58Z"))));
    }

    @Test
    void theStampFollowsTheClockAcrossSecondsAndParametersAreFilledIn() {
        Logs.Line line = new Logs.Line(ZoneId.of("UTC"));
        LogRecord withParameter = record(Level.SEVERE, "blade {0} down", Instant.parse("2026-12-04T01:16:59Z"));
        withParameter.setParameters(new Object[] {"b2"});
        line.format(record(Level.INFO, "before", Instant.parse("2026-12-04T01:16:58Z")));
        assertEquals("2026-12-04T01:16:59+0000 SEVERE  blade b2 down" + System.lineSeparator(),
                line.format(withParameter));
    }

    @Test
    void aThrowableFollowsOnTheNextLines() {
        LogRecord failed = record(Level.WARNING, "pass failed", Instant.parse("2026-12-04T01:16:59Z"));
        failed.setThrown(new IllegalStateException("boom"));
        String text = new Logs.Line(ZoneId.of("UTC")).format(failed);
        assertTrue(text.startsWith("2026-12-04T01:16:59+0000 WARNING pass failed" + System.lineSeparator()
                + "java.lang.IllegalStateException: boom" + System.lineSeparator() + "\tat "), text);
        assertTrue(text.endsWith(System.lineSeparator()) && !text.endsWith(System.lineSeparator()
                + System.lineSeparator()), text);
    }

    @Test
    void whatAStudentWroteCannotReachTheTerminalNorForgeALine() {
        LogRecord hostile = record(Level.INFO, "alice/web: web.yaml: bad \u001b[2J\u009b31m\nFAKE root logged in",
                Instant.parse("2026-12-04T01:16:59Z"));
        hostile.setThrown(new IllegalStateException("in \u001b]0;title\u0007 here\u2028"));
        String text = new Logs.Line(ZoneId.of("UTC")).format(hostile);
        assertTrue(text.startsWith("2026-12-04T01:16:59+0000 INFO    alice/web: web.yaml: bad \\x1b[2J\\x9b31m"
                + "\\x0aFAKE root logged in" + System.lineSeparator()), text);
        assertTrue(text.contains("IllegalStateException: in \\x1b]0;title\\x07 here\\u2028"), text);
        assertTrue(text.chars().noneMatch(c -> c < 0x20 && c != '\n' && c != '\r' && c != '\t'
                || c >= 0x7f && c <= 0x9f || c == 0x2028), text);
    }
}
