package org.ievirsh.posix;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * LibC binds the few C library calls that Java lacks for working safely in
 * directories that someone else controls: the {@code *at} family on an open
 * directory, {@code O_NOFOLLOW} and {@code O_NONBLOCK} opens, {@code statx},
 * and NSS account lookups. Linux only (x86-64 and arm64 flag values).
 */
final class LibC {
    static final int AT_FDCWD = -100;
    static final int AT_SYMLINK_NOFOLLOW = 0x100;
    static final int AT_REMOVEDIR = 0x200;
    static final int AT_EMPTY_PATH = 0x1000;

    static final int O_RDONLY = 0;
    static final int O_WRONLY = 1;
    static final int O_RDWR = 2;
    static final int O_CREAT = 0100;
    static final int O_EXCL = 0200;
    static final int O_NOCTTY = 0400;
    static final int O_NONBLOCK = 04000;
    static final int O_CLOEXEC = 02000000;
    static final int O_DIRECTORY;
    static final int O_NOFOLLOW;

    static final int STATX_BASIC_STATS = 0x7ff;
    static final int STATX_BTIME = 0x800;

    static final int SEEK_SET = 0;

    static final int LOCK_EX = 2;
    static final int LOCK_NB = 4;
    static final int AF_UNIX = 1;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_CLOEXEC = 02000000;

    static final int ENOENT = 2;
    static final int EINTR = 4;
    static final int EACCES = 13;
    static final int EIO = 5;
    static final int EAGAIN = 11;
    static final int EEXIST = 17;
    static final int ENOTDIR = 20;
    static final int ERANGE = 34;
    static final int ELOOP = 40;

    static {
        if (!Platform.isLinux()) {
            throw new UnsupportedOperationException("ie-virsh runs on Linux only");
        }
        boolean arm = Platform.isARM();
        O_DIRECTORY = arm ? 040000 : 0200000;
        O_NOFOLLOW = arm ? 0100000 : 0400000;
        Native.register(LibC.class, Platform.C_LIBRARY_NAME);
    }

    private LibC() {
    }

    /**
     * A path as C wants it: UTF-8 and a terminating NUL. Encoded here rather
     * than by JNA, which looks the charset up on every call (half the cost of
     * a stat); a NUL inside would cut the path short, so it is refused.
     */
    static byte[] cString(String path) {
        byte[] utf8 = path.getBytes(StandardCharsets.UTF_8);
        for (byte b : utf8) {
            if (b == 0) {
                throw new IllegalArgumentException("a path with a NUL byte: " + path.replace("\0", "\\0"));
            }
        }
        return Arrays.copyOf(utf8, utf8.length + 1);
    }

    static int openat(int dirfd, String path, int flags, int mode) throws LastErrorException {
        return openat(dirfd, cString(path), flags, mode);
    }

    private static native int openat(int dirfd, byte[] path, int flags, int mode) throws LastErrorException;

    static native int close(int fd) throws LastErrorException;

    static native long read(int fd, byte[] buffer, long count) throws LastErrorException;

    static native long pread(int fd, byte[] buffer, long count, long offset) throws LastErrorException;

    static native long write(int fd, byte[] buffer, long count) throws LastErrorException;

    static native int statx(int dirfd, byte[] path, int flags, int mask, byte[] buffer)
            throws LastErrorException;

    static int mkdirat(int dirfd, String path, int mode) throws LastErrorException {
        return mkdirat(dirfd, cString(path), mode);
    }

    private static native int mkdirat(int dirfd, byte[] path, int mode) throws LastErrorException;

    static int renameat(int olddirfd, String oldpath, int newdirfd, String newpath) throws LastErrorException {
        return renameat(olddirfd, cString(oldpath), newdirfd, cString(newpath));
    }

    private static native int renameat(int olddirfd, byte[] oldpath, int newdirfd, byte[] newpath)
            throws LastErrorException;

    static int unlinkat(int dirfd, String path, int flags) throws LastErrorException {
        return unlinkat(dirfd, cString(path), flags);
    }

    private static native int unlinkat(int dirfd, byte[] path, int flags) throws LastErrorException;

    static native int fchown(int fd, int uid, int gid) throws LastErrorException;

    static native int fchmod(int fd, int mode) throws LastErrorException;

    static native int fsync(int fd) throws LastErrorException;

    static native long lseek(int fd, long offset, int whence) throws LastErrorException;

    /** Directory entries as the kernel gives them (glibc 2.30 and later). */
    static native long getdents64(int fd, byte[] buffer, long size) throws LastErrorException;

    /** BSD locks: one per open file description, cluster-wide on OCFS2 and GFS2 (unlike fcntl's on o2cb). */
    static native int flock(int fd, int operation) throws LastErrorException;

    static native int ftruncate(int fd, long length) throws LastErrorException;

    static native long pwrite(int fd, byte[] buffer, long count, long offset) throws LastErrorException;

    static native int socket(int domain, int type, int protocol) throws LastErrorException;

    static native long sendto(int fd, byte[] buffer, long length, int flags, byte[] address, int addressLength)
            throws LastErrorException;

    static native int geteuid();

    static native int getegid();

    static native int getpwuid_r(int uid, Pointer pwd, Pointer buffer, long size, PointerByReference result);

    static native int getpwnam_r(String name, Pointer pwd, Pointer buffer, long size, PointerByReference result);

    static native int getgrgid_r(int gid, Pointer grp, Pointer buffer, long size, PointerByReference result);

    static native int getgrnam_r(String name, Pointer grp, Pointer buffer, long size, PointerByReference result);

    static native int getgrouplist(String user, int group, int[] groups, IntByReference count);

    static native void setpwent();

    static native int getpwent_r(Pointer pwd, Pointer buffer, long size, PointerByReference result);

    static native void endpwent();
}
