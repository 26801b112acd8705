package org.ievirsh.posix;

import com.sun.jna.LastErrorException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * SafeDir is an open directory, and every operation inside it is relative to
 * that open handle: a student who renames or swaps a directory or a file for
 * a symbolic link cannot redirect what we read or write.
 *
 * <p>Names are single path components; a symbolic link is never followed; a
 * FIFO or device never blocks a read (it is opened non-blocking and refused
 * after {@code fstat}); writes go to a fresh temporary file that is renamed
 * into place, so readers never see half a file.
 */
public final class SafeDir implements AutoCloseable {
    /** A student's directory fits the first buffer; a directory of homes reads on in the larger one. */
    private static final int FIRST_LIST_BUFFER = 2 * 1024;
    private static final int LIST_BUFFER = 32 * 1024;
    private static final byte[] EMPTY_PATH = {0};
    private static final int READ_FLAGS =
            LibC.O_RDONLY | LibC.O_NOFOLLOW | LibC.O_NONBLOCK | LibC.O_NOCTTY | LibC.O_CLOEXEC;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final int fd;
    private final String description;
    private boolean closed;

    private SafeDir(int fd, String description) {
        this.fd = fd;
        this.description = description;
    }

    /**
     * Opens a directory the admin controls (the config's paths), following
     * symbolic links as the admin set them up. Everything below it is opened
     * with {@link #openDir}.
     */
    public static SafeDir openTrusted(Path path) throws PosixException {
        try {
            int fd = LibC.openat(LibC.AT_FDCWD, path.toString(), LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC, 0);
            return new SafeDir(fd, path.toString());
        } catch (LastErrorException e) {
            throw new PosixException("open", path.toString(), e.getErrorCode());
        }
    }

    /** Opens the subdirectory {@code name}; a symbolic link there is refused. */
    public SafeDir openDir(String name) throws PosixException {
        checkName(name);
        try {
            int child = LibC.openat(fd, name,
                    LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_NOFOLLOW | LibC.O_CLOEXEC, 0);
            return new SafeDir(child, description + "/" + name);
        } catch (LastErrorException e) {
            throw new PosixException("open", description + "/" + name, e.getErrorCode());
        }
    }

    /**
     * Opens the subdirectory {@code name}, creating it first if it is missing;
     * a created directory is given to {@code uid}:{@code gid} with {@code mode}.
     */
    public SafeDir openOrCreateDir(String name, int uid, int gid, int mode) throws PosixException {
        checkName(name);
        try {
            return openDir(name); // the usual case; a failing mkdir costs an exception every time
        } catch (PosixException e) {
            if (!e.isNotFound()) {
                throw e;
            }
        }
        boolean created = false;
        try {
            LibC.mkdirat(fd, name, 0700);
            created = true;
        } catch (LastErrorException e) {
            if (e.getErrorCode() != LibC.EEXIST) {
                throw new PosixException("mkdir", description + "/" + name, e.getErrorCode());
            }
        }
        SafeDir child = openDir(name);
        if (created) {
            try {
                LibC.fchown(child.fd, uid, gid);
                LibC.fchmod(child.fd, mode);
            } catch (LastErrorException e) {
                child.close();
                throw new PosixException("chown", description + "/" + name, e.getErrorCode());
            }
        }
        return child;
    }

    /** Gives this directory itself to {@code uid}:{@code gid} with {@code mode}. */
    public void chown(int uid, int gid, int mode) throws PosixException {
        try {
            LibC.fchown(fd, uid, gid);
            LibC.fchmod(fd, mode);
        } catch (LastErrorException e) {
            throw new PosixException("chown", description, e.getErrorCode());
        }
    }

    /** Stat of this directory itself. */
    public FileStat stat() throws PosixException {
        return statAt("", LibC.AT_EMPTY_PATH);
    }

    /** Stat of {@code name} without following a link; empty when it does not exist. */
    public Optional<FileStat> stat(String name) throws PosixException {
        checkName(name);
        try {
            return Optional.of(statAt(name, LibC.AT_SYMLINK_NOFOLLOW));
        } catch (PosixException e) {
            if (e.isNotFound()) {
                return Optional.empty();
            }
            throw e;
        }
    }

    private FileStat statAt(String name, int flags) throws PosixException {
        try {
            return FileStat.of(fd, LibC.cString(name), flags);
        } catch (LastErrorException e) {
            throw new PosixException("stat", name.isEmpty() ? description : description + "/" + name,
                    e.getErrorCode());
        }
    }

    /** Entry is one name in a directory listing; names that are not UTF-8 are left out. */
    public record Entry(String name, FileStat.Type type) {
    }

    /**
     * The entries of this directory, without {@code .} and {@code ..}. Read
     * with getdents64 straight into a Java buffer: a directory of ten thousand
     * homes is a dozen calls, not one per entry. The buffer is copied in and
     * out of each call, so a small directory gets a small one.
     */
    public synchronized List<Entry> list() throws PosixException {
        List<Entry> entries = new ArrayList<>();
        byte[] buffer = new byte[FIRST_LIST_BUFFER];
        try {
            // The descriptor's offset is where the last listing ended: start from the top each time.
            LibC.lseek(fd, 0, LibC.SEEK_SET);
            while (true) {
                long n = LibC.getdents64(fd, buffer, buffer.length);
                if (n <= 0) {
                    break;
                }
                for (int at = 0; at < n; ) {
                    // struct linux_dirent64: d_ino, d_off (8 bytes each), d_reclen (2), d_type (1), d_name (NUL-ended).
                    int reclen = (buffer[at + 16] & 0xff) | (buffer[at + 17] & 0xff) << 8;
                    if (reclen < 20 || at + reclen > n) {
                        throw new PosixException("list", description, LibC.EIO);
                    }
                    int nameStart = at + 19;
                    int nameEnd = nameStart;
                    while (nameEnd < at + reclen && buffer[nameEnd] != 0) {
                        nameEnd++;
                    }
                    String name = decodeName(buffer, nameStart, nameEnd - nameStart);
                    if (name != null && !name.equals(".") && !name.equals("..")) {
                        entries.add(new Entry(name, direntType(buffer[at + 18])));
                    }
                    at += reclen;
                }
                if (buffer.length < LIST_BUFFER && n > buffer.length / 2) {
                    buffer = new byte[LIST_BUFFER];
                }
            }
        } catch (LastErrorException e) {
            throw new PosixException("list", description, e.getErrorCode());
        }
        return entries;
    }

    private static String decodeName(byte[] buffer, int start, int length) {
        boolean ascii = true;
        for (int i = start; i < start + length && ascii; i++) {
            ascii = buffer[i] > 0;
        }
        if (ascii) {
            return new String(buffer, start, length, StandardCharsets.US_ASCII);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(buffer, start, length)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private static FileStat.Type direntType(byte type) {
        switch (type) {
            case 8: return FileStat.Type.REGULAR;
            case 4: return FileStat.Type.DIRECTORY;
            case 10: return FileStat.Type.SYMLINK;
            case 0: return null;
            default: return FileStat.Type.OTHER;
        }
    }

    /** Contents is a file read whole: its stat (of the opened file) and bytes. */
    public record Contents(FileStat stat, byte[] bytes) {
    }

    /**
     * Reads {@code name} if it is a regular file of at most {@code maxBytes};
     * otherwise returns its stat with no bytes. Links are never followed and
     * FIFOs never block. Empty when the file does not exist.
     */
    public Optional<Contents> read(String name, int maxBytes) throws PosixException {
        try (OpenFile file = open(name)) {
            if (file == null) {
                return Optional.empty();
            }
            FileStat stat = file.stat();
            if (!stat.isRegular() || stat.size() > maxBytes) {
                return Optional.of(new Contents(stat, null));
            }
            byte[] buffer = new byte[(int) Math.min(stat.size() + 1, (long) maxBytes + 1)];
            int total = 0;
            while (total < buffer.length) {
                int n = file.read(buffer, total);
                if (n <= 0) {
                    break;
                }
                total += n;
            }
            if (total > maxBytes) {
                return Optional.of(new Contents(stat, null));
            }
            return Optional.of(new Contents(stat, java.util.Arrays.copyOf(buffer, total)));
        }
    }

    /**
     * Opens {@code name} for reading without following a link and without
     * blocking on a FIFO; null when it does not exist.
     */
    public OpenFile open(String name) throws PosixException {
        checkName(name);
        try {
            return new OpenFile(LibC.openat(fd, name, READ_FLAGS, 0), description + "/" + name);
        } catch (LastErrorException e) {
            if (e.getErrorCode() == LibC.ENOENT) {
                return null;
            }
            throw new PosixException("open", description + "/" + name, e.getErrorCode());
        }
    }

    /**
     * Writes {@code content} as {@code name}: a new temporary file owned by
     * {@code uid}:{@code gid} with {@code mode}, renamed over the old one.
     * Whatever {@code name} was (a link, a file of someone else), it is
     * replaced, never written through.
     */
    public void writeAtomically(String name, byte[] content, int uid, int gid, int mode) throws PosixException {
        checkName(name);
        String temporary = "." + name + ".tmp-" + HexFormat.of().formatHex(randomBytes());
        int out;
        try {
            out = LibC.openat(fd, temporary,
                    LibC.O_WRONLY | LibC.O_CREAT | LibC.O_EXCL | LibC.O_NOFOLLOW | LibC.O_CLOEXEC, 0600);
        } catch (LastErrorException e) {
            throw new PosixException("create", description + "/" + temporary, e.getErrorCode());
        }
        boolean renamed = false;
        try {
            LibC.fchown(out, uid, gid);
            LibC.fchmod(out, mode);
            int written = 0;
            while (written < content.length) {
                byte[] rest = written == 0 ? content : java.util.Arrays.copyOfRange(content, written, content.length);
                long n = LibC.write(out, rest, rest.length);
                written += (int) n;
            }
            LibC.close(out);
            out = -1;
            LibC.renameat(fd, temporary, fd, name);
            renamed = true;
        } catch (LastErrorException e) {
            throw new PosixException("write", description + "/" + name, e.getErrorCode());
        } finally {
            if (out >= 0) {
                LibC.close(out);
            }
            if (!renamed) {
                try {
                    LibC.unlinkat(fd, temporary, 0);
                } catch (LastErrorException ignored) {
                    // Nothing more to undo: the temporary file was never created or is gone.
                }
            }
        }
    }

    /**
     * Sets the mode of {@code name} if it is a regular file of {@code uid}
     * (opened without following a link, and changed through that handle);
     * anything else there is left alone. Returns false if it was not changed.
     */
    public boolean chmodOwnFile(String name, int uid, int mode) throws PosixException {
        try (OpenFile file = open(name)) {
            if (file == null) {
                return false;
            }
            FileStat stat = file.stat();
            if (!stat.isRegular() || stat.uid() != uid || (stat.mode() & 07777) == mode) {
                return false;
            }
            file.chmod(mode);
            return true;
        } catch (LastErrorException e) {
            throw new PosixException("chmod", description + "/" + name, e.getErrorCode());
        } catch (PosixException e) {
            if (e.isSymlinkRefused()) {
                return false;
            }
            throw e;
        }
    }

    /** Removes the file {@code name}; returns false if it did not exist. */
    public boolean delete(String name) throws PosixException {
        checkName(name);
        try {
            LibC.unlinkat(fd, name, 0);
            return true;
        } catch (LastErrorException e) {
            if (e.getErrorCode() == LibC.ENOENT) {
                return false;
            }
            throw new PosixException("remove", description + "/" + name, e.getErrorCode());
        }
    }

    /** What this directory was opened as, for messages. */
    public String description() {
        return description;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            LibC.close(fd);
        }
    }

    private static byte[] randomBytes() {
        byte[] bytes = new byte[8];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    /** Refuses anything that is not one plain path component. */
    static void checkName(String name) {
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('/') >= 0
                || name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("not a plain file name: " + name);
        }
    }
}
