package org.ievirsh.controller;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.logging.Logger;
import org.ievirsh.reconcile.DiscoveryReconciler;

/**
 * DirectoryWatcher turns file changes into keys within a second (inotify
 * through Java's WatchService). It is only a hint: every reconcile reads the
 * directory afresh, and the periodic resync catches what watching misses
 * (NFS homes, a full inotify table).
 */
final class DirectoryWatcher implements DiscoveryReconciler.Watches, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DirectoryWatcher.class.getName());

    private final WatchService service;
    private final Map<WatchKey, Path> studentKeys = new HashMap<>();
    private final Map<Path, WatchKey> byPath = new HashMap<>();
    private final Set<WatchKey> structureKeys = new HashSet<>();
    private final Consumer<Path> studentChanged;
    private final Runnable structureChanged;
    private boolean stale = true;
    private final Thread thread;
    private boolean warned;

    DirectoryWatcher(Consumer<Path> studentChanged, Runnable structureChanged) throws IOException {
        this.service = FileSystems.getDefault().newWatchService();
        this.studentChanged = studentChanged;
        this.structureChanged = structureChanged;
        this.thread = new Thread(this::run, "directory-watcher");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    @Override
    public void watch(Set<Path> structure, Set<Path> students) {
        watchStructure(structure);
        watchStudents(students);
    }

    /** Watches the directories where new student directories may appear (the glob's prefix and levels). */
    synchronized void watchStructure(Set<Path> directories) {
        stale = false;
        for (Path dir : directories) {
            if (byPath.containsKey(dir)) {
                continue;
            }
            try {
                WatchKey key = dir.register(service, StandardWatchEventKinds.ENTRY_CREATE,
                        StandardWatchEventKinds.ENTRY_DELETE);
                structureKeys.add(key);
                byPath.put(dir, key);
            } catch (IOException | RuntimeException e) {
                warnOnce(dir, e);
            }
        }
    }

    /**
     * True when a watch was lost (its directory went away) or could not be
     * made since the last {@link #watchStructure}: the watches must be set again
     * even if the students are the same.
     */
    @Override
    public synchronized boolean stale() {
        return stale;
    }

    /** Watches exactly these student directories (and stops watching others). */
    synchronized void watchStudents(Set<Path> directories) {
        for (Map.Entry<WatchKey, Path> e : Map.copyOf(studentKeys).entrySet()) {
            if (!directories.contains(e.getValue())) {
                e.getKey().cancel();
                studentKeys.remove(e.getKey());
                byPath.remove(e.getValue());
            }
        }
        for (Path dir : directories) {
            if (byPath.containsKey(dir)) {
                continue;
            }
            try {
                WatchKey key = dir.register(service, StandardWatchEventKinds.ENTRY_CREATE,
                        StandardWatchEventKinds.ENTRY_DELETE, StandardWatchEventKinds.ENTRY_MODIFY);
                studentKeys.put(key, dir);
                byPath.put(dir, key);
            } catch (IOException | RuntimeException e) {
                warnOnce(dir, e);
            }
        }
    }

    private void warnOnce(Path dir, Exception e) {
        stale = true;
        if (!warned) {
            warned = true;
            LOG.warning("cannot watch " + dir + " (" + e + "); changes there are seen at the next resync");
        }
    }

    private void run() {
        while (true) {
            WatchKey key;
            try {
                key = service.take();
            } catch (InterruptedException | ClosedWatchServiceException e) {
                return;
            }
            boolean statusOnly = true;
            for (var event : key.pollEvents()) {
                Object context = event.context();
                if (!(context instanceof Path name) || !name.toString().equals(".status")) {
                    statusOnly = false;
                }
            }
            Path student;
            boolean structure;
            synchronized (this) {
                student = studentKeys.get(key);
                structure = structureKeys.contains(key);
            }
            if (student != null && !statusOnly) {
                studentChanged.accept(student);
            } else if (structure) {
                structureChanged.run();
            }
            if (!key.reset()) {
                synchronized (this) {
                    Path gone = studentKeys.remove(key);
                    structureKeys.remove(key);
                    if (gone != null) {
                        byPath.remove(gone);
                    }
                    byPath.values().remove(key);
                    stale = true;
                }
                structureChanged.run();
            }
        }
    }

    @Override
    public void close() {
        try {
            service.close();
        } catch (IOException e) {
            LOG.fine(() -> "closing the watch service: " + e);
        }
        thread.interrupt();
    }
}
