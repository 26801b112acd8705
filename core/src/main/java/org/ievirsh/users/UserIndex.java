package org.ievirsh.users;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Logger;

/**
 * UserIndex is the students known now: for each, their directory and who
 * they are. It is rebuilt by each discovery pass; a uid that owns several
 * matching directories, or that NSS cannot resolve, is left out, so that
 * nothing of theirs is created or removed until it is clear.
 */
public final class UserIndex {
    private static final Logger LOG = Logger.getLogger(UserIndex.class.getName());

    /** Entry is one student: their directory (owned by {@code dirUid}) and identity. */
    public record Entry(Path directory, int dirUid, Owner owner) {
        // Written out (owner first by identity: NSS answers are kept): every discovery compares all students.
        @Override
        public boolean equals(Object o) {
            return this == o || o instanceof Entry e && dirUid == e.dirUid
                    && (owner == e.owner || owner.equals(e.owner)) && directory.equals(e.directory);
        }

        @Override
        public int hashCode() {
            return directory.hashCode() * 31 + dirUid;
        }
    }

    /** Counts says how the last discovery went, for metrics and logs. */
    public record Counts(int users, int unresolved, int conflicting) {
    }

    private volatile Map<String, Entry> byUser = Map.of();
    private volatile Map<Path, String> byPath = Map.of();
    private volatile Counts counts = new Counts(0, 0, 0);
    private volatile Map<Path, Integer> unresolvedDirs = Map.of();
    private volatile boolean changed = true;

    /**
     * Replaces the index with the directories found now; returns the users
     * that were in it before and are not any more.
     */
    public synchronized Set<String> update(List<UserDirectories.Found> found, OwnerResolver resolver) {
        Map<Integer, List<UserDirectories.Found>> byUid = new HashMap<>();
        found.forEach(f -> byUid.computeIfAbsent(f.uid(), u -> new ArrayList<>()).add(f));
        resolver.prepare(byUid.keySet());
        Map<String, Entry> users = new HashMap<>();
        Map<Path, String> paths = new HashMap<>();
        int unresolved = 0;
        int conflicting = 0;
        Map<Path, Integer> unresolvedDirs = new HashMap<>();
        for (Map.Entry<Integer, List<UserDirectories.Found>> e : byUid.entrySet()) {
            List<UserDirectories.Found> dirs = e.getValue();
            if (dirs.size() > 1 && !resolver.distinguishesDirectories()) {
                conflicting++;
                LOG.warning("uid " + e.getKey() + " owns several student directories " + dirs.stream()
                        .map(UserDirectories.Found::path).toList() + "; none of them is acted on until one is left");
                continue;
            }
            for (UserDirectories.Found dir : dirs) {
                Optional<Owner> owner = resolver.resolve(dir.path(), dir.uid());
                if (owner.isEmpty()) {
                    unresolved++;
                    unresolvedDirs.put(dir.path(), dir.uid());
                    continue;
                }
                Entry fresh = new Entry(dir.path(), dir.uid(), owner.get());
                Entry known = byUser.get(owner.get().user());
                // The same student as before keeps the same entry: reconciles compare it by identity first.
                Entry previous = users.put(owner.get().user(), fresh.equals(known) ? known : fresh);
                if (previous != null) {
                    conflicting++;
                    users.remove(owner.get().user());
                    continue;
                }
                paths.put(dir.path(), owner.get().user());
            }
        }
        Set<String> gone = new java.util.HashSet<>();
        changed = !users.equals(byUser);
        if (changed) {
            gone.addAll(byUser.keySet());
            gone.removeAll(users.keySet());
            byUser = Map.copyOf(users);
            byPath = Map.copyOf(paths);
        }
        counts = new Counts(users.size(), unresolved, conflicting);
        this.unresolvedDirs = Map.copyOf(unresolvedDirs);
        return gone;
    }

    /** The directories of the last update whose owner NSS could not name, with their owners' uids. */
    public Map<Path, Integer> unresolved() {
        return unresolvedDirs;
    }

    /** True when the last update found other students, directories or identities than the one before. */
    public boolean changed() {
        return changed;
    }

    public Optional<Entry> get(String user) {
        return Optional.ofNullable(byUser.get(user));
    }

    /** The user whose directory is {@code directory}, if known. */
    public Optional<String> userOf(Path directory) {
        return Optional.ofNullable(byPath.get(directory));
    }

    public Set<String> users() {
        return byUser.keySet();
    }

    public Map<String, Entry> entries() {
        return byUser;
    }

    public Counts counts() {
        return counts;
    }
}
