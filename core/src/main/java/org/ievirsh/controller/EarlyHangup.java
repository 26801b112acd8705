package org.ievirsh.controller;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * EarlyHangup keeps a {@code SIGHUP} that comes while a controller starts:
 * the JVM's own handling of it ends the process (exit 129), and the
 * controller's handlers (the standby's, the config reloader's) are set only
 * after the config is read, a second or more later on a busy host. A
 * {@code kill -HUP} sent to every controller at that moment (an admin's, or
 * a config tool's that does not wait for the unit to be ready, as
 * {@code bench chaos} first did) ended a new standby. Set first thing in
 * {@code main}, it leaves only the JVM's own start (a fraction of a second)
 * open; the config reloader reads its file again if one came meanwhile (a
 * standby reads its file afresh when it takes over).
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
