package org.ievirsh.posix;

import com.sun.jna.LastErrorException;

/** OpenFile is a file opened for reading; its stat is of the opened file itself. */
public final class OpenFile implements AutoCloseable {
    private static final byte[] EMPTY_PATH = {0};

    private final int fd;
    private final String description;

    OpenFile(int fd, String description) {
        this.fd = fd;
        this.description = description;
    }

    public FileStat stat() throws PosixException {
        try {
            return FileStat.of(fd, EMPTY_PATH, LibC.AT_EMPTY_PATH);
        } catch (LastErrorException e) {
            throw new PosixException("stat", description, e.getErrorCode());
        }
    }

    /** Reads into {@code buffer} from {@code offset} of the buffer; returns the count, 0 at the end. */
    int read(byte[] buffer, int offset) throws PosixException {
        byte[] chunk = offset == 0 ? buffer : new byte[buffer.length - offset];
        try {
            long n = LibC.read(fd, chunk, chunk.length);
            if (offset != 0 && n > 0) {
                System.arraycopy(chunk, 0, buffer, offset, (int) n);
            }
            return (int) n;
        } catch (LastErrorException e) {
            throw new PosixException("read", description, e.getErrorCode());
        }
    }

    /** Sets the file's mode, through this handle. */
    void chmod(int mode) throws LastErrorException {
        LibC.fchmod(fd, mode);
    }

    /** Reads up to {@code length} bytes at {@code position} of the file. */
    public byte[] readAt(long position, int length) throws PosixException {
        byte[] buffer = new byte[length];
        try {
            long n = LibC.pread(fd, buffer, length, position);
            return n == length ? buffer : java.util.Arrays.copyOf(buffer, (int) Math.max(0, n));
        } catch (LastErrorException e) {
            throw new PosixException("read", description, e.getErrorCode());
        }
    }

    @Override
    public void close() {
        LibC.close(fd);
    }
}
