package org.ievirsh.posix;

import java.io.IOException;

/** PosixException is a failed system call, with its errno. */
public final class PosixException extends IOException {
    private static final long serialVersionUID = 1L;
    private final int errno;

    PosixException(String operation, String name, int errno) {
        super(operation + " " + name + ": " + describe(errno));
        this.errno = errno;
    }

    /** A refusal of ours, not of the kernel's: {@code message} says what is wrong and how to mend it. */
    PosixException(String message) {
        super(message);
        this.errno = LibC.EACCES;
    }

    public int errno() {
        return errno;
    }

    public boolean isNotFound() {
        return errno == LibC.ENOENT;
    }

    /** True when the name was a symbolic link that we refused to follow (or not a directory). */
    public boolean isSymlinkRefused() {
        return errno == LibC.ELOOP || errno == LibC.ENOTDIR;
    }

    static String describe(int errno) {
        switch (errno) {
            case 1: return "operation not permitted";
            case 2: return "no such file or directory";
            case 13: return "permission denied";
            case 17: return "already exists";
            case 20: return "not a directory";
            case 21: return "is a directory";
            case 28: return "no space left on device";
            case 40: return "is a symbolic link (not followed)";
            case 122: return "disk quota exceeded";
            default: return "errno " + errno;
        }
    }
}
