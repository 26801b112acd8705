package org.ievirsh.reconcile;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.ievirsh.blade.Fleet;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.posix.FileStat;
import org.ievirsh.posix.PosixException;
import org.ievirsh.posix.Lstat;
import org.ievirsh.users.UserIndex;

/**
 * QuietUser is what a clean pass over one student rested on, kept so that
 * the next pass can tell with a few stats that nothing has changed since:
 * the student's index entry; the stat of the directory, of each VM file, of
 * {@code .status}, of the image directory and of each image checked (of a
 * running VM's disk, only which file it is); the student's domains as the
 * blades report them (and whether their blades
 * answer); the generations of the templates, of image inspections and of
 * the student's addresses; and the moment the facts' time would change them
 * (a VM's expiry or its warning), before which alone the proof may stand.
 * If anything differs, the pass reads everything afresh.
 *
 * <p>A pass is kept only when every VM it saw either has its domain or
 * wants none: a VM waiting for a blade also depends on other students'
 * domains and on time. A stat is trusted only once it has settled (see
 * {@link FileStat#settled}): a change within the same clock tick as the look
 * could otherwise leave every field as it was.
 */
final class QuietUser {
    /** How long after its last change a file's stat may stand for "unchanged since". */
    static final long SETTLE_NANOS = 2_000_000_000L;

    private final UserIndex.Entry entry;
    private final List<Seen> files;
    private final List<ObservedDomain> domains;
    private final boolean[] bladesUp;
    private final long templates;
    private final long inspections;
    private final long addresses;
    private final java.time.Instant until;

    private QuietUser(UserIndex.Entry entry, List<Seen> files, List<ObservedDomain> domains, boolean[] bladesUp,
                      long templates, long inspections, long addresses, java.time.Instant until) {
        this.addresses = addresses;
        this.until = until;
        this.entry = entry;
        this.files = files;
        this.domains = domains;
        this.bladesUp = bladesUp;
        this.templates = templates;
        this.inspections = inspections;
    }

    /**
     * Seen is one path and its stat as the pass saw it; {@code sameFile}:
     * only which file it is counts (type, device, inode, owner, mode), not
     * its content.
     */
    private record Seen(Lstat path, Optional<FileStat> stat, boolean sameFile) {
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

    /**
     * Builder gathers what one pass rested on; {@link #build} gives nothing
     * when the pass looked at a file whose stat had not settled, or rested on
     * something a stat cannot tell.
     */
    static final class Builder {
        private final UserIndex.Entry entry;
        private final long passStartedEpochNanos;
        private final long templates;
        private final long inspections;
        private final long addresses;
        private java.time.Instant until;
        private final Map<Path, Seen> files = new LinkedHashMap<>();
        private List<ObservedDomain> domains = List.of();
        private boolean[] bladesUp = new boolean[0];
        private boolean telling = true;

        Builder(UserIndex.Entry entry, long passStartedEpochNanos, long templates, long inspections, long addresses) {
            this.addresses = addresses;
            this.entry = entry;
            this.passStartedEpochNanos = passStartedEpochNanos;
            this.templates = templates;
            this.inspections = inspections;
        }

        /** The count of the student's addresses and watched consoles the pass began with. */
        long guestGeneration() {
            return addresses;
        }

        /** The pass rested on {@code path} being as {@code stat} says (empty: nothing there); null: unknown. */
        Builder file(Path path, Optional<FileStat> stat) {
            if (stat == null || stat.isPresent() && !stat.get().settled(passStartedEpochNanos, SETTLE_NANOS)) {
                telling = false;
            } else if (telling) {
                files.put(path, new Seen(new Lstat(path), stat, false));
            }
            return this;
        }

        /**
         * The pass rested on each of {@code stats} (by path); null: on
         * something unknown. Of the paths in {@code inUse} (the disks of VMs
         * that run: QEMU writes them all the time) only the file counts, not
         * its content: what a check of the content says matters at the next
         * start, and a VM that stops changes its domain, which ends the proof.
         */
        Builder files(Map<Path, Optional<FileStat>> byPath, Set<Path> inUse) {
            if (byPath == null) {
                telling = false;
                return this;
            }
            byPath.forEach((path, stat) -> {
                if (inUse.contains(path) && stat.isPresent()) {
                    files.put(path, new Seen(new Lstat(path), stat, true));
                } else {
                    file(path, stat);
                }
            });
            return this;
        }

        /** The pass's facts hold only until {@code instant} (empty: for as long as nothing else changes). */
        Builder until(Optional<java.time.Instant> instant) {
            this.until = instant.orElse(null);
            return this;
        }

        /** The pass rested on something no stat tells. */
        Builder untold() {
            telling = false;
            return this;
        }

        /** The student's domains the pass saw, and whether each one's blade answered. */
        Builder domains(List<ObservedDomain> seen, boolean[] up) {
            this.domains = List.copyOf(seen);
            this.bladesUp = up.clone();
            return this;
        }

        Optional<QuietUser> build() {
            return telling ? Optional.of(new QuietUser(entry, List.copyOf(files.values()), domains, bladesUp,
                    templates, inspections, addresses, until)) : Optional.empty();
        }
    }

    /** Until when the proof may stand at most (a VM's warning or end), if there is such a moment. */
    Optional<java.time.Instant> until() {
        return Optional.ofNullable(until);
    }

    /**
     * True when everything the kept pass rested on is still as it was: a new
     * pass would find the same facts and have nothing to do or write.
     */
    boolean holds(UserIndex.Entry entryNow, Fleet fleet, long templatesNow, long inspectionsNow, long addressesNow,
                  java.time.Instant at) {
        if (templatesNow != templates || inspectionsNow != inspections || addressesNow != addresses
                || until != null && !at.isBefore(until) || entryNow != entry && !entryNow.equals(entry)) {
            return false;
        }
        List<ObservedDomain> now = fleet.domainsOf(entry.owner().user());
        if (now.size() != domains.size()) {
            return false;
        }
        for (int i = 0; i < now.size(); i++) {
            ObservedDomain d = now.get(i);
            if (d != domains.get(i) && !d.equals(domains.get(i)) || fleet.bladeUp(d.blade()) != bladesUp[i]) {
                return false;
            }
            String key = entry.owner().user() + "/" + d.config().vm();
            for (String mac : d.config().macs()) {
                if (fleet.macInUse(mac, d.uuid(), key)) {
                    return false;
                }
            }
        }
        try {
            for (Seen file : files) {
                if (!file.matches(file.path().now())) {
                    return false;
                }
            }
        } catch (PosixException e) {
            return false;
        }
        return true;
    }
}
