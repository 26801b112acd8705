package org.ievirsh.posix;

import com.sun.jna.LastErrorException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Lstat is one path whose metadata is looked up again and again, to tell
 * cheaply whether what it names is still exactly what was seen before. It
 * never opens anything and never follows a link at its last component. A
 * link swapped in higher up is followed, but then the stat is of another
 * file (another device and inode) and compares as a change: an Lstat can
 * only ever say "still the very same file, unchanged", never lead to one.
 */
public final class Lstat {
    /** The path as C wants it; only the bytes are kept (ten thousand students hold a dozen each). */
    private final byte[] cPath;

    public Lstat(Path path) {
        this.cPath = LibC.cString(path.toAbsolutePath().toString());
    }

    public Path path() {
        return Path.of(new String(cPath, 0, cPath.length - 1, StandardCharsets.UTF_8));
    }

    /** The path's stat now; empty when nothing is there (or a directory on the way is missing). */
    public Optional<FileStat> now() throws PosixException {
        try {
            return Optional.of(FileStat.of(LibC.AT_FDCWD, cPath, LibC.AT_SYMLINK_NOFOLLOW));
        } catch (LastErrorException e) {
            if (e.getErrorCode() == LibC.ENOENT || e.getErrorCode() == LibC.ENOTDIR) {
                return Optional.empty();
            }
            throw new PosixException("stat", path().toString(), e.getErrorCode());
        }
    }
}
