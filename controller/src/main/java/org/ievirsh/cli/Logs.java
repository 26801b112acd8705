package org.ievirsh.cli;

import java.util.logging.ConsoleHandler;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/** Logs sets up one-line logs on standard error: time, level, message. */
final class Logs {
    /** The project's logger, held so that its level is not lost when JUL drops unreferenced loggers. */
    private static final Logger PROJECT = Logger.getLogger("org.ievirsh");

    private Logs() {
    }

    static void setUp(Level level) {
        System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tFT%1$tT%1$tz %4$-7s %5$s%6$s%n");
        Logger root = Logger.getLogger("");
        for (Handler handler : root.getHandlers()) {
            root.removeHandler(handler);
        }
        ConsoleHandler console = new ConsoleHandler();
        console.setFormatter(new SimpleFormatter());
        console.setLevel(level);
        root.addHandler(console);
        root.setLevel(Level.WARNING);
        PROJECT.setLevel(level);
    }
}
