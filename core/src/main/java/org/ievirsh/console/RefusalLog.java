package org.ievirsh.console;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.logging.Logger;

/**
 * RefusalLog keeps a caller in a loop from writing the log full: a caller's
 * refusal is logged with its reason the first time in a window, and the rest
 * are counted and logged in one line per window, by caller.
 */
final class RefusalLog {
    private static final Logger LOG = Logger.getLogger(ConsoleBroker.class.getName());
    private static final int MAX_CALLERS = 10_000;

    private final Duration window;
    /** Refusals not logged yet, by caller. */
    private final Map<String, Integer> unlogged = new HashMap<>();
    /** When each caller's last refusal was logged with its reason. */
    private final Map<String, Long> lastLogged = new HashMap<>();
    private long loggedAt = System.nanoTime();

    RefusalLog(Duration window) {
        this.window = window;
    }

    /** Logs {@code line} for {@code who} if it is their first refusal in the window; else counts it. */
    void refused(String who, String line) {
        if (firstInWindow(who)) {
            LOG.info(line);
        } else {
            inBulk(who);
        }
    }

    /** Counts a refusal not logged on its own; logs what was counted once a window. */
    void inBulk(String who) {
        String line = null;
        synchronized (this) {
            unlogged.merge(who, 1, Integer::sum);
            long now = System.nanoTime();
            if (now - loggedAt >= window.toNanos()) {
                line = "console: refused in the last " + window.toSeconds() + " s, by caller: " + unlogged;
                unlogged.clear();
                loggedAt = now;
            }
        }
        if (line != null) {
            LOG.warning(line);
        }
    }

    private synchronized boolean firstInWindow(String who) {
        long now = System.nanoTime();
        Long last = lastLogged.get(who);
        if (last != null && now - last < window.toNanos()) {
            return false;
        }
        if (lastLogged.size() > MAX_CALLERS) {
            lastLogged.clear();
        }
        lastLogged.put(who, now);
        return true;
    }
}
