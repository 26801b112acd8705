package org.ievirsh.users;

import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.logging.Logger;
import org.ievirsh.posix.FileStat;
import org.ievirsh.posix.PosixException;
import org.ievirsh.posix.SafeDir;

/**
 * UserDirectories finds the students' directories that the admin's glob
 * (like {@code /home/*}{@code /ie-virsh}) matches. The part of the path before
 * the first wildcard is the admin's and is opened as it is; every component
 * after it is opened without following symbolic links, so a student cannot
 * point the controller at someone else's directory.
 */
public final class UserDirectories {
    private static final Logger LOG = Logger.getLogger(UserDirectories.class.getName());

    private final Path prefix;
    private final List<String> rest;
    /** Per component of {@link #rest}: its glob, compiled once; null where the component is a plain name. */
    private final List<PathMatcher> matchers = new ArrayList<>();
    private final int minUid;
    /** The prefix, opened once: every reconcile opens students' directories below it. */
    private volatile SafeDir openPrefix;

    /** Found is one matching directory and the uid that owns it. */
    public record Found(Path path, int uid) {
    }

    public UserDirectories(String glob, int minUid) {
        Path path = Path.of(glob);
        List<String> components = new ArrayList<>();
        path.forEach(p -> components.add(p.toString()));
        int firstWild = 0;
        while (firstWild < components.size() && !isWild(components.get(firstWild))) {
            firstWild++;
        }
        // Keep at least the last component out of the trusted prefix: it is the student's directory.
        int trusted = Math.min(firstWild, components.size() - 1);
        Path p = path.getRoot();
        for (int i = 0; i < trusted; i++) {
            p = p.resolve(components.get(i));
        }
        this.prefix = p;
        this.rest = List.copyOf(components.subList(trusted, components.size()));
        for (String component : rest) {
            matchers.add(isWild(component) ? FileSystems.getDefault().getPathMatcher("glob:" + component) : null);
        }
        this.minUid = minUid;
    }

    private static boolean isWild(String component) {
        return component.chars().anyMatch(c -> c == '*' || c == '?' || c == '[' || c == '{');
    }

    /** The admin's part of the glob: the directory where the search starts (watched for new users). */
    public Path prefix() {
        return prefix;
    }

    /**
     * Scan is what a search found: the matching directories, and every
     * directory the search looked into on the way (where a new student
     * directory would appear: every home, for {@code /home/*}{@code /ie-virsh}).
     */
    public record Scan(List<Found> found, Set<Path> levels) {
    }

    /** Every directory the glob matches now, owned by a uid of at least {@code minUid}. */
    public List<Found> scan() {
        return search().found();
    }

    /** The same search, with the directories it looked into on the way. */
    public Scan search() {
        List<Found> found = new ArrayList<>();
        Set<Path> levels = new HashSet<>();
        try (SafeDir start = SafeDir.openTrusted(prefix)) {
            walk(start, prefix, 0, found, levels);
        } catch (PosixException e) {
            LOG.warning("cannot read " + prefix + ": " + e.getMessage());
        }
        return new Scan(found, levels);
    }

    private void walk(SafeDir dir, Path path, int depth, List<Found> found, Set<Path> levels) {
        levels.add(path);
        String component = rest.get(depth);
        PathMatcher matcher = matchers.get(depth);
        List<String> names = new ArrayList<>();
        if (matcher != null) {
            try {
                for (SafeDir.Entry entry : dir.list()) {
                    boolean hidden = entry.name().startsWith(".") && !component.startsWith(".");
                    if (!hidden && matcher.matches(Path.of(entry.name()))
                            && (entry.type() == null || entry.type() == FileStat.Type.DIRECTORY)) {
                        names.add(entry.name());
                    }
                }
            } catch (PosixException e) {
                LOG.fine(() -> "cannot list " + path + ": " + e.getMessage());
                return;
            }
        } else {
            names.add(component);
        }
        boolean last = depth + 1 == rest.size();
        for (String name : names) {
            try {
                if (last) {
                    // The student's directory itself is only looked at (a stat that does not follow a link);
                    // every reconcile opens it again safely.
                    FileStat stat = dir.stat(name).orElse(null);
                    if (stat != null && stat.isDirectory() && stat.uid() >= minUid) {
                        found.add(new Found(path.resolve(name), stat.uid()));
                    }
                    continue;
                }
                try (SafeDir child = dir.openDir(name)) {
                    walk(child, path.resolve(name), depth + 1, found, levels);
                }
            } catch (PosixException e) {
                // Missing, not a directory, or a symbolic link: not a student directory.
            }
        }
    }

    /**
     * Opens a directory that {@link #scan} found, again without following any
     * link below the prefix; it may have been swapped since.
     */
    public SafeDir open(Path directory) throws PosixException {
        Path relative = prefix.relativize(directory);
        SafeDir current = null;
        try {
            for (Path component : relative) {
                SafeDir next = (current == null ? openedPrefix() : current).openDir(component.toString());
                if (current != null) {
                    current.close();
                }
                current = next;
            }
            if (current == null) {
                throw new IllegalArgumentException(directory + " is the prefix itself");
            }
            return current;
        } catch (PosixException | RuntimeException e) {
            if (current != null) {
                current.close();
            }
            throw e;
        }
    }

    private SafeDir openedPrefix() throws PosixException {
        SafeDir open = openPrefix;
        if (open == null) {
            synchronized (this) {
                if (openPrefix == null) {
                    openPrefix = SafeDir.openTrusted(prefix);
                }
                open = openPrefix;
            }
        }
        return open;
    }

    /**
     * Opens the prefix again if the admin replaced it (a new mount); the old
     * handle is kept open: a reconcile may still be using it.
     */
    public synchronized void refreshPrefix() {
        try (SafeDir fresh = SafeDir.openTrusted(prefix)) {
            if (openPrefix != null && openPrefix.stat().inode() == fresh.stat().inode()
                    && openPrefix.stat().device() == fresh.stat().device()) {
                return;
            }
        } catch (PosixException e) {
            return;
        }
        try {
            openPrefix = SafeDir.openTrusted(prefix);
        } catch (PosixException e) {
            LOG.warning("cannot open " + prefix + ": " + e.getMessage());
        }
    }
}
