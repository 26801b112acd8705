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
 */
public final class LockFile implements AutoCloseable {
    private final Path path;
    private final int fd;

    private LockFile(Path path, int fd) {
        this.path = path;
        this.fd = fd;
    }

    public static LockFile open(Path path) throws PosixException {
        try {
            return new LockFile(path, LibC.openat(LibC.AT_FDCWD, path.toString(),
                    LibC.O_RDWR | LibC.O_CREAT | LibC.O_NOFOLLOW | LibC.O_CLOEXEC | LibC.O_NOCTTY, 0600));
        } catch (LastErrorException e) {
            throw new PosixException("open", path.toString(), e.getErrorCode());
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
