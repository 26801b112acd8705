package org.ievirsh.reconcile;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntSupplier;
import java.util.logging.Logger;
import org.ievirsh.api.v1.Condition;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.blade.Blade;
import org.ievirsh.blade.Fleet;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.posix.FileStat;
import org.ievirsh.posix.PosixException;
import org.ievirsh.posix.SafeDir;
import org.ievirsh.spec.SpecReader;
import org.ievirsh.spec.UserFiles;
import org.ievirsh.status.StatusWriter;
import org.ievirsh.users.UserDirectories;

/**
 * UnresolvedStatuses tells a student whose account NSS cannot resolve now
 * (the directory server down, or slower than its bound) why nothing
 * happens: every VM file of their directory gets the status {@code Unknown},
 * reason {@code AccountUnresolved}, with its domain and blade as the blades
 * show them, and nothing else of theirs is touched
 * (their domains are left exactly as they are, nothing is defined, started
 * or removed). The statuses are written as the directory's owner, like every
 * status, and once only while nothing changes; the student's next pass,
 * once NSS answers, writes the real ones.
 */
final class UnresolvedStatuses {
    private static final Logger LOG = Logger.getLogger(UnresolvedStatuses.class.getName());
    static final String REASON = org.ievirsh.api.v1.Reasons.ACCOUNT_UNRESOLVED;

    private final UserDirectories directories;
    private final Fleet fleet;
    private final StatusWriter writer;
    private final IntSupplier maxFiles;
    private final SpecReader specs = new SpecReader();
    private final Map<Path, Memory> memories = new HashMap<>();

    /** Memory is what was read and written for one unresolved directory. */
    private static final class Memory {
        final SpecReader.Memory specs = new SpecReader.Memory();
        final StatusWriter.Memory statuses = new StatusWriter.Memory();
    }

    UnresolvedStatuses(UserDirectories directories, Fleet fleet, StatusWriter writer, IntSupplier maxFiles) {
        this.directories = directories;
        this.fleet = fleet;
        this.writer = writer;
        this.maxFiles = maxFiles;
    }

    /**
     * The status of VM {@code vm} of uid {@code uid} while NSS cannot name
     * its owner, with its domain as the blades show it ({@code "-"} when it
     * has none).
     */
    static VmStatus status(String vm, int uid, Optional<ObservedDomain> domain) {
        String message = "your account (uid " + uid + ") cannot be resolved through NSS now (the directory"
                + " server may be down or slow); your VMs are left exactly as they are until it answers";
        return new VmStatus(vm, new VmStatus.Owner("uid" + uid, uid), Phase.Unknown, message,
                List.of(Condition.unknown(Condition.READY, REASON, message)),
                domain.map(ObservedDomain::blade).orElse(null), domain.map(ObservedDomain::name).orElse("-"),
                domain.map(ObservedDomain::uuid).orElse(null), null, null, List.of(), null, null, null, null, null,
                null, null);
    }

    /** The domains of the owners of {@code uids}, by uid and VM name (the first blade's when on two). */
    private Map<Integer, Map<String, ObservedDomain>> domainsOf(java.util.Collection<Integer> uids) {
        Map<Integer, Map<String, ObservedDomain>> found = new HashMap<>();
        Set<Integer> wanted = Set.copyOf(uids);
        for (Blade blade : fleet.blades()) {
            for (ObservedDomain d : blade.view().all()) {
                if (wanted.contains(d.config().uid())) {
                    found.computeIfAbsent(d.config().uid(), u -> new HashMap<>()).putIfAbsent(d.config().vm(), d);
                }
            }
        }
        return found;
    }

    /** Writes the statuses of the directories in {@code unresolved} (directory to its owner's uid). */
    synchronized void write(Map<Path, Integer> unresolved) {
        memories.keySet().retainAll(unresolved.keySet());
        if (unresolved.isEmpty()) {
            return;
        }
        Map<Integer, Map<String, ObservedDomain>> domains = domainsOf(unresolved.values());
        unresolved.forEach((path, uid) -> {
            Memory memory = memories.computeIfAbsent(path, p -> new Memory());
            try (SafeDir dir = directories.open(path)) {
                FileStat stat = dir.stat();
                if (stat.uid() != uid) {
                    return;  // it changed owner since the discovery: the next one sees it
                }
                UserFiles files = specs.read(dir, path.toString(), uid, memory.specs, maxFiles.getAsInt(), Set.of());
                try (StatusWriter.Files statuses = writer.open(dir, memory.statuses, uid, stat.gid())) {
                    for (String vm : files.vms().keySet()) {
                        statuses.write(status(vm, uid, Optional.ofNullable(domains.getOrDefault(uid, Map.of())
                                .get(vm))), Optional.empty());
                    }
                }
            } catch (PosixException | RuntimeException e) {
                LOG.fine(() -> path + " (uid " + uid + ", unresolved): " + e.getMessage());
            }
        });
    }
}
