package org.ievirsh.posix;

import com.sun.jna.LastErrorException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * LockFile is a file held by an exclusive {@code flock(2)}: on a cluster
 * filesystem (OCFS2, GFS2) the lock is cluster-wide, and the kernel drops
 * it when the process dies, however it dies. {@code fcntl} locks (Java's
 * {@code FileChannel.lock}) are per node on OCFS2 with o2cb and would let
 * two controllers lead. The file is opened without following a symbolic
 * link, created root's and 0600 when missing.
 *
 * <p>Whoever can open the file can hold the lock, and a holder that never
 * lets go keeps every controller a standby for ever. So the file must be
 * the controller's own (root's) with no access for group or others, and
 * every directory above it must be root's and writable by no one else
 * (or sticky, as {@code /tmp}: then no one else can move root's file away),
 * as sshd's StrictModes wants of a key file; anything else is refused with
 * what to change.
 */
public final class LockFile implements AutoCloseable {
    private final Path path;
    private final int fd;

    private LockFile(Path path, int fd) {
        this.path = path;
        this.fd = fd;
    }

    public static LockFile open(Path path) throws PosixException {
        Path absolute = path.toAbsolutePath();
        int fd;
        try {
            fd = LibC.openat(LibC.AT_FDCWD, absolute.toString(),
                    LibC.O_RDWR | LibC.O_CREAT | LibC.O_NOFOLLOW | LibC.O_CLOEXEC | LibC.O_NOCTTY, 0600);
        } catch (LastErrorException e) {
            throw new PosixException("open", path.toString(), e.getErrorCode());
        }
        try {
            checkPrivate(absolute, fd);
        } catch (PosixException e) {
            try {
                LibC.close(fd);
            } catch (LastErrorException ignored) {
                // Closing only releases it.
            }
            throw e;
        }
        return new LockFile(path, fd);
    }

    /** Refuses a lock file that anyone but the controller could open, move or replace. */
    private static void checkPrivate(Path path, int fd) throws PosixException {
        int self = LibC.geteuid();
        FileStat file;
        try {
            file = FileStat.of(fd, new byte[1], LibC.AT_EMPTY_PATH);
        } catch (LastErrorException e) {
            throw new PosixException("stat", path.toString(), e.getErrorCode());
        }
        if (!file.isRegular() || file.uid() != self || (file.mode() & 077) != 0) {
            throw new PosixException(path + " must be a regular file of uid " + self + " that no one else may open"
                    + " (it is " + (file.isRegular() ? "" : "not a regular file, ") + "uid " + file.uid() + ", mode "
                    + String.format("%04o", file.mode()) + "): whoever can open it can hold the lock and keep every"
                    + " controller a standby; chown " + self + " and chmod 600 it, and make sure no other process"
                    + " holds it open");
        }
        for (Path dir = path.getParent(); dir != null; dir = dir.getParent()) {
            FileStat d;
            try {
                d = FileStat.of(LibC.AT_FDCWD, LibC.cString(dir.toString()), 0);
            } catch (LastErrorException e) {
                throw new PosixException("stat", dir.toString(), e.getErrorCode());
            }
            boolean sticky = (d.mode() & 01000) != 0;
            if (d.uid() != 0 && d.uid() != self || (d.mode() & 022) != 0 && !sticky) {
                throw new PosixException(path + ": the directory " + dir + " (uid " + d.uid() + ", mode "
                        + String.format("%04o", d.mode()) + ") lets someone else replace the lock file; it must be"
                        + " root's and writable by root alone (chmod go-w " + dir + ")");
            }
        }
    }

    /** Waits, as long as it takes, for the exclusive lock. */
    public void lock() throws PosixException {
        while (true) {
            try {
                LibC.flock(fd, LibC.LOCK_EX);
                return;
            } catch (LastErrorException e) {
                if (e.getErrorCode() != LibC.EINTR) {
                    throw new PosixException("flock", path.toString(), e.getErrorCode());
                }
            }
        }
    }

    /** Takes the lock if nobody holds it; false when another holds it. */
    public boolean tryLock() throws PosixException {
        try {
            LibC.flock(fd, LibC.LOCK_EX | LibC.LOCK_NB);
            return true;
        } catch (LastErrorException e) {
            if (e.getErrorCode() == LibC.EAGAIN || e.getErrorCode() == LibC.EINTR) {
                return false;
            }
            throw new PosixException("flock", path.toString(), e.getErrorCode());
        }
    }

    /** The file's text (its first 4 KiB: the holder's record is a few lines). */
    public String read() throws PosixException {
        byte[] buffer = new byte[4096];
        try {
            long n = LibC.pread(fd, buffer, buffer.length, 0);
            return new String(buffer, 0, (int) Math.max(0, n), StandardCharsets.UTF_8);
        } catch (LastErrorException e) {
            throw new PosixException("read", path.toString(), e.getErrorCode());
        }
    }

    /** Replaces the file's text, through the locked descriptor, and syncs it to the disk. */
    public void write(String text) throws PosixException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        try {
            LibC.ftruncate(fd, 0);
            long done = 0;
            while (done < bytes.length) {
                byte[] rest = java.util.Arrays.copyOfRange(bytes, (int) done, bytes.length);
                done += LibC.pwrite(fd, rest, rest.length, done);
            }
            LibC.fsync(fd);
        } catch (LastErrorException e) {
            throw new PosixException("write", path.toString(), e.getErrorCode());
        }
    }

    public Path path() {
        return path;
    }

    /** Closes the file: the lock goes with it. */
    @Override
    public void close() {
        try {
            LibC.close(fd);
        } catch (LastErrorException ignored) {
            // Nothing is left to release.
        }
    }
}
