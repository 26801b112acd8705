package org.ievirsh.controller;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.logging.Logger;
import org.ievirsh.posix.Inotify;
import org.ievirsh.posix.PosixException;
import org.ievirsh.reconcile.DiscoveryReconciler;

/**
 * DirectoryWatcher turns file changes into keys within a second (inotify):
 * a VM file saved in a student's directory, an image uploaded (closed after
 * writing, or moved in) or changed in their image directory, and a student
 * directory made anywhere the admin's glob reaches (every home, not only the
 * homes that have one already). It is only a hint: every reconcile reads the
 * directory afresh, and the periodic resync catches what watching misses
 * (NFS homes, where another host's changes make no event here; a full
 * inotify table, {@code fs.inotify.max_user_watches}).
 */
final class DirectoryWatcher implements DiscoveryReconciler.Watches, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DirectoryWatcher.class.getName());
    private static final String STRUCTURE = "s:";
    private static final String STUDENT = "d:";
    private static final String IMAGES = "i:";

    private final Inotify inotify;
    private final Consumer<Path> studentChanged;
    private final Consumer<String> imagesChanged;
    private final Runnable structureChanged;
    private volatile boolean stale = true;
    private boolean warned;

    /**
     * {@code studentChanged} hears a student directory whose files changed,
     * {@code imagesChanged} a user whose images changed, and
     * {@code structureChanged} that student directories may have come or gone.
     */
    DirectoryWatcher(Consumer<Path> studentChanged, Consumer<String> imagesChanged, Runnable structureChanged)
            throws PosixException {
        this.studentChanged = studentChanged;
        this.imagesChanged = imagesChanged;
        this.structureChanged = structureChanged;
        this.inotify = new Inotify("directory-watcher", this::changed);
    }

    private void changed(String key, String entry) {
        if (key.startsWith(STUDENT)) {
            if (entry.isEmpty()) {
                stale = true;
                structureChanged.run();
            } else if (org.ievirsh.spec.SpecReader.reads(entry)) {
                // Only a file the reader reads wakes the student: not an editor's swap file, a save's temporary
                // file or .status (vim writes its swap file every few seconds while a student types).
                studentChanged.accept(Path.of(key.substring(STUDENT.length())));
            }
        } else if (key.startsWith(IMAGES)) {
            imagesChanged.accept(key.substring(IMAGES.length()));
        } else {
            stale = true;
            structureChanged.run();
        }
    }

    @Override
    public boolean stale() {
        return stale;
    }

    @Override
    public synchronized void watch(Set<Path> structure, Set<Path> students, Map<Path, String> images) {
        stale = false;
        Set<String> keep = new HashSet<>();
        for (Path dir : structure) {
            add(keep, STRUCTURE + dir, dir);
        }
        for (Path dir : students) {
            add(keep, STUDENT + dir, dir);
        }
        images.forEach((dir, user) -> add(keep, IMAGES + user, dir));
        inotify.keepOnly(keep);
    }

    private void add(Set<String> keep, String key, Path dir) {
        keep.add(key);
        if (!inotify.watch(key, dir.toString())) {
            if (!warned && java.nio.file.Files.isDirectory(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                warned = true;
                LOG.warning("cannot watch " + dir + " (is fs.inotify.max_user_watches high enough?); changes there"
                        + " are seen at the next resync");
            }
        }
    }

    @Override
    public void close() {
        inotify.close();
    }
}
