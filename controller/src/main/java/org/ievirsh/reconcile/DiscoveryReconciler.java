package org.ievirsh.reconcile;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.ievirsh.engine.Result;
import org.ievirsh.users.OwnerResolver;
import org.ievirsh.users.UserDirectories;
import org.ievirsh.users.UserIndex;

/**
 * DiscoveryReconciler finds the students' directories (the admin's glob),
 * updates the index of students, forgets the ones who are gone (their VMs
 * stay as they are), sets the file watches when the students changed, and
 * begins a pass: every student found is reconciled once.
 */
public final class DiscoveryReconciler {

    /** Watches is where the discovery says what to watch (the file watcher). */
    public interface Watches {
        /** True when a watch was lost or could not be made: they must be set again. */
        boolean stale();

        /** Watch {@code structure} (where new student directories may appear) and the {@code students}' own. */
        void watch(Set<Path> structure, Set<Path> students);
    }

    private final UserDirectories directories;
    private final UserIndex index;
    private final OwnerResolver owners;
    private final UserReconciler users;
    private final Watches watches;
    private final Passes passes;
    private final Consumer<String> routine;

    /** {@code routine} queues a user's reconcile behind changed ones (a resync's). */
    public DiscoveryReconciler(UserDirectories directories, UserIndex index, OwnerResolver owners,
                               UserReconciler users, Watches watches, Passes passes, Consumer<String> routine) {
        this.directories = directories;
        this.index = index;
        this.owners = owners;
        this.users = users;
        this.watches = watches;
        this.passes = passes;
        this.routine = routine;
    }

    public Result reconcile() {
        directories.refreshPrefix();
        List<UserDirectories.Found> found = directories.scan();
        Set<String> gone = index.update(found, owners);
        gone.forEach(users::forget);
        if (watches != null && (index.changed() || !gone.isEmpty() || watches.stale())) {
            // The same students in the same directories as last time: the watches stand (a pass over ten
            // thousand students would otherwise rebuild both sets for nothing).
            Set<Path> students = new HashSet<>();
            Set<Path> structure = new HashSet<>();
            structure.add(directories.prefix());
            for (UserIndex.Entry entry : index.entries().values()) {
                students.add(entry.directory());
                for (Path p = entry.directory().getParent(); p != null && p.startsWith(directories.prefix())
                        && !p.equals(directories.prefix()); p = p.getParent()) {
                    structure.add(p);
                }
            }
            watches.watch(structure, students);
        }
        passes.begin(index.users());
        index.users().forEach(routine);
        return Result.done();
    }
}
