package org.ievirsh.reconcile;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.ievirsh.engine.Result;
import org.ievirsh.status.StatusWriter;
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

        /**
         * Watch {@code structure} (where new student directories and image
         * directories may appear), the {@code students}' own directories, and
         * each user's image directory.
         */
        void watch(Set<Path> structure, Set<Path> students, Map<Path, String> images);
    }

    private final UserDirectories directories;
    private final UserIndex index;
    private final OwnerResolver owners;
    private final UserReconciler users;
    private final Watches watches;
    private final Passes passes;
    private final Consumer<String> routine;
    private java.util.function.Predicate<String> retrying;
    private final Path images;
    private Set<Path> levels = Set.of();
    private UnresolvedStatuses unresolved;

    /** {@code routine} queues a user's reconcile behind changed ones (a resync's). */
    public DiscoveryReconciler(UserDirectories directories, Path images, UserIndex index, OwnerResolver owners,
                               UserReconciler users, Watches watches, Passes passes, Consumer<String> routine) {
        this.images = images;
        this.directories = directories;
        this.index = index;
        this.owners = owners;
        this.users = users;
        this.watches = watches;
        this.passes = passes;
        this.routine = routine;
    }

    /** Leaves out of each pass the students waiting for a retry after failures ({@code retrying}). */
    public DiscoveryReconciler skippingRetries(java.util.function.Predicate<String> retrying) {
        this.retrying = retrying;
        return this;
    }

    /** Writes the statuses of directories whose owner NSS cannot resolve, at every discovery. */
    public DiscoveryReconciler tellingUnresolved(org.ievirsh.blade.Fleet fleet, StatusWriter writer,
                                                 java.util.function.IntSupplier maxFiles) {
        this.unresolved = new UnresolvedStatuses(directories, fleet, writer, maxFiles);
        return this;
    }

    public Result reconcile() {
        directories.refreshPrefix();
        UserDirectories.Scan scan = directories.search();
        Set<String> gone = index.update(scan.found(), owners);
        gone.forEach(users::forget);
        if (unresolved != null) {
            unresolved.write(index.unresolved());
        }
        if (watches != null && (index.changed() || !gone.isEmpty() || !scan.levels().equals(levels)
                || watches.stale())) {
            // The same students in the same directories as last time: the watches stand (a pass over ten
            // thousand students would otherwise set them all again for nothing).
            levels = scan.levels();
            Set<Path> students = new HashSet<>();
            Set<Path> structure = new HashSet<>(scan.levels());
            structure.add(images);
            Map<Path, String> imageDirs = new HashMap<>();
            for (UserIndex.Entry entry : index.entries().values()) {
                students.add(entry.directory());
                imageDirs.put(images.resolve(entry.owner().user()), entry.owner().user());
            }
            watches.watch(structure, students, imageDirs);
        }
        // A student waiting for a retry after failures is not in the pass: their back-off (up to 5 minutes) is
        // no lack of progress, and one student whose VM keeps failing must not make the leader look hung.
        passes.begin(retrying == null ? index.users()
                : index.users().stream().filter(u -> !retrying.test(u)).toList());
        index.users().forEach(routine);
        return Result.done();
    }
}
