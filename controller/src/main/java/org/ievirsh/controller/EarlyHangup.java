package org.ievirsh.controller;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * EarlyHangup keeps a {@code SIGHUP} that comes while a controller starts:
 * the JVM's own handling of it ends the process (exit 129), and the
 * controller's handlers (the standby's, the config reloader's) are set only
 * seconds later, after the config is read and HTTP serves. systemd's
 * {@code ExecReload} signals every controller, a new standby too, so a
 * reload at that moment ended it (found by {@code bench chaos}). Set first
 * thing in {@code main}; the config reloader reads its file again if one
 * came meanwhile (a standby reads its file afresh when it takes over).
 */
public final class EarlyHangup {
    private static final AtomicBoolean SEEN = new AtomicBoolean();

    private EarlyHangup() {
    }

    /** Catches SIGHUP from now on, until a controller's own handler replaces this one. */
    public static void install() {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), signal -> SEEN.set(true));
        } catch (IllegalArgumentException e) {
            // Not catchable here (the JVM runs with -Xrs): the start is as before.
        }
    }

    /** True, once, when a SIGHUP came before the controller's own handler took over. */
    static boolean takeSeen() {
        return SEEN.getAndSet(false);
    }

    /** True while a SIGHUP kept here waits for the config reloader (a test's view). */
    static boolean pending() {
        return SEEN.get();
    }
}
