package org.ievirsh.posix;

import com.sun.jna.Native;
import com.sun.jna.Platform;

/** Terminal tells whether a file descriptor is a terminal (the console command's raw mode needs one). */
public final class Terminal {
    static {
        Native.register(Terminal.class, Platform.C_LIBRARY_NAME);
    }

    private Terminal() {
    }

    private static native int isatty(int fd);

    /** True when standard input is a terminal. */
    public static boolean stdinIsTerminal() {
        return isatty(0) == 1;
    }
}
