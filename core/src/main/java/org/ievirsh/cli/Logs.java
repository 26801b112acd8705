package org.ievirsh.cli;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** Logs sets up one-line logs on standard error: time, level, message. */
public final class Logs {
    /** The project's logger, held so that its level is not lost when JUL drops unreferenced loggers. */
    private static final Logger PROJECT = Logger.getLogger("org.ievirsh");

    private Logs() {
    }

    public static void setUp(Level level) {
        Logger root = Logger.getLogger("");
        for (Handler handler : root.getHandlers()) {
            root.removeHandler(handler);
        }
        ConsoleHandler console = new ConsoleHandler();
        console.setFormatter(new Line(ZoneId.systemDefault()));
        console.setLevel(level);
        root.addHandler(console);
        root.setLevel(Level.WARNING);
        PROJECT.setLevel(level);
    }

    /**
     * Line writes a record as {@code 2026-12-04T01:16:57+0000 INFO    message}
     * (and the stack trace of a throwable on the lines after it), as
     * SimpleFormatter would with that format, without parsing a format string
     * for each line: a first pass logs three lines per VM.
     */
    static final class Line extends Formatter {
        private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ssxx");
        private final ZoneId zone;
        private long second = Long.MIN_VALUE;
        private String stamp = "";

        Line(ZoneId zone) {
            this.zone = zone;
        }

        @Override
        public synchronized String format(LogRecord record) {
            long now = Math.floorDiv(record.getMillis(), 1000);
            if (now != second) {
                stamp = STAMP.format(Instant.ofEpochSecond(now).atZone(zone));
                second = now;
            }
            StringBuilder line = new StringBuilder(stamp.length() + 96).append(stamp).append(' ');
            String level = record.getLevel().getLocalizedName();
            line.append(level);
            for (int i = level.length(); i < 7; i++) {
                line.append(' ');
            }
            // A message may carry what a student or a guest wrote: no control character of theirs reaches the
            // admin's terminal, and no line break of theirs makes a log line of its own.
            line.append(' ').append(Output.printable(formatMessage(record)));
            // The trace is written line by line, not by printStackTrace: an exception's message is one line,
            // whatever line breaks it holds.
            String prefix = "";
            Throwable t = record.getThrown();
            for (int depth = 0; t != null && depth < 16; depth++, t = t.getCause()) {
                line.append(System.lineSeparator()).append(prefix).append(Output.printable(t.toString()));
                for (StackTraceElement frame : t.getStackTrace()) {
                    line.append(System.lineSeparator()).append("\tat ").append(frame);
                }
                prefix = "Caused by: ";
            }
            return line.append(System.lineSeparator()).toString();
        }
    }
}
