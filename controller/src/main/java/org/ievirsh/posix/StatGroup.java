package org.ievirsh.posix;

import com.sun.jna.LastErrorException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * StatGroup is a few files of one directory (and perhaps the directory
 * itself) whose metadata is looked up again and again, to tell cheaply
 * whether each is still exactly what was seen before: the directory is
 * opened once ({@code O_PATH}: nothing is read) and each name is looked up
 * from it, so that the kernel walks the long path once per directory, not
 * once per file (at a resync over ten thousand students, walking paths was
 * most of the controller's CPU). It never opens a file, and never follows a
 * link at a file's name or, when the directory's own stat is kept, at the
 * directory's. It tells what one {@code lstat} per path would tell: a link
 * swapped in higher up is followed, but then the stat is of another file
 * (another device and inode) and compares as a change. A group can only
 * ever say "still the very same files, unchanged", never lead to one.
 */
public final class StatGroup {
    private static final byte[] EMPTY = {0};

    /** Expected is a file's stat as it was seen; {@code sameFile}: only its identity counts, not its content. */
    public record Expected(Optional<FileStat> stat, boolean sameFile) {
        boolean matches(Optional<FileStat> now) {
            if (!sameFile || stat.isEmpty() || now.isEmpty()) {
                return now.equals(stat);
            }
            FileStat a = stat.get();
            FileStat b = now.get();
            return a.type() == b.type() && a.device() == b.device() && a.inode() == b.inode() && a.uid() == b.uid()
                    && a.gid() == b.gid() && a.mode() == b.mode();
        }
    }

    /** The directory as C wants it; only the bytes are kept (ten thousand students hold a few groups each). */
    private final byte[] cDir;
    /** The directory's own stat, or null when only its files are kept. */
    private final Expected self;
    private final byte[][] names;
    private final Expected[] files;

    private StatGroup(byte[] cDir, Expected self, byte[][] names, Expected[] files) {
        this.cDir = cDir;
        this.self = self;
        this.names = names;
        this.files = files;
    }

    /**
     * Groups {@code seen} (paths with what was seen there) by directory: a
     * path that is itself the directory of others is kept as that group's
     * own stat.
     */
    public static List<StatGroup> of(Map<Path, Expected> seen) {
        Map<Path, Map<String, Expected>> byDir = new LinkedHashMap<>();
        for (Map.Entry<Path, Expected> e : seen.entrySet()) {
            Path path = e.getKey().toAbsolutePath();
            Path dir = path.getParent();
            if (dir == null || path.getFileName() == null) {
                throw new IllegalArgumentException("no file name in " + path);
            }
            byDir.computeIfAbsent(dir, d -> new LinkedHashMap<>()).put(path.getFileName().toString(), e.getValue());
        }
        List<StatGroup> groups = new ArrayList<>();
        for (Map.Entry<Path, Map<String, Expected>> group : byDir.entrySet()) {
            Path dir = group.getKey();
            Expected self = dir.getParent() == null ? null : byDir.getOrDefault(dir.getParent(), Map.of())
                    .get(dir.getFileName().toString());
            List<byte[]> names = new ArrayList<>();
            List<Expected> files = new ArrayList<>();
            group.getValue().forEach((name, expected) -> {
                Path path = dir.resolve(name);
                if (!byDir.containsKey(path)) {  // else it is that group's own stat
                    names.add(LibC.cString(name));
                    files.add(expected);
                }
            });
            if (self != null || !names.isEmpty()) {
                groups.add(new StatGroup(LibC.cString(dir.toString()), self, names.toArray(new byte[0][]),
                        files.toArray(new Expected[0])));
            }
        }
        return groups;
    }

    /** The directory this group looks into. */
    public Path directory() {
        return Path.of(new String(cDir, 0, cDir.length - 1, StandardCharsets.UTF_8));
    }

    /** True when every file of the group (and the directory, if kept) is as it was seen. */
    public boolean unchanged() throws PosixException {
        int fd;
        try {
            fd = LibC.openat(LibC.AT_FDCWD, cDir, LibC.O_PATH | LibC.O_CLOEXEC | (self != null ? LibC.O_NOFOLLOW : 0),
                    0);
        } catch (LastErrorException e) {
            if (!missing(e)) {
                throw new PosixException("open", directory().toString(), e.getErrorCode());
            }
            // Nothing there: each file must have been missing too.
            if (self != null && !self.matches(Optional.empty())) {
                return false;
            }
            for (Expected file : files) {
                if (!file.matches(Optional.empty())) {
                    return false;
                }
            }
            return true;
        }
        try {
            if (self != null && !self.matches(stat(fd, EMPTY, LibC.AT_EMPTY_PATH))) {
                return false;
            }
            for (int i = 0; i < names.length; i++) {
                if (!files[i].matches(stat(fd, names[i], LibC.AT_SYMLINK_NOFOLLOW))) {
                    return false;
                }
            }
            return true;
        } finally {
            LibC.close(fd);
        }
    }

    private Optional<FileStat> stat(int fd, byte[] name, int flags) throws PosixException {
        try {
            return Optional.of(FileStat.of(fd, name, flags));
        } catch (LastErrorException e) {
            if (missing(e)) {
                return Optional.empty();
            }
            throw new PosixException("stat", directory() + "/" + new String(name, 0, name.length - 1,
                    StandardCharsets.UTF_8), e.getErrorCode());
        }
    }

    private static boolean missing(LastErrorException e) {
        return e.getErrorCode() == LibC.ENOENT || e.getErrorCode() == LibC.ENOTDIR;
    }
}
