package org.ievirsh.reconcile;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import org.ievirsh.posix.FileStat;
import org.ievirsh.posix.PosixException;
import org.ievirsh.posix.SafeDir;
import org.ievirsh.quota.QuotaLimits;
import org.ievirsh.spec.SpecEntry;
import org.ievirsh.spec.UserFiles;
import org.ievirsh.status.StatusFiles;
import org.ievirsh.users.Owner;
import org.ievirsh.users.UserIndex;

/**
 * UserFacts is one student's facts, gathered at the start of a pass: their
 * directory (open, while the pass runs), what it holds, and every VM's
 * facts in name order; and what those facts rest on, for the proof that a
 * later pass may skip ({@link NothingChanged}).
 *
 * @param dir       the student's directory, opened safely; null when it could not be opened
 * @param readable  the directory was read: without it nothing is removed
 * @param quota     the student's quota, as their user and groups give it
 * @param rests     what the pass rests on, as far as stats can tell
 * @param strandedAt when a VM's unreachable blade will have been down for {@code bladeDown.after}
 *                  (with restartElsewhere), if one is
 * @param away      VMs whose blade does not answer, known only from their status, which is kept
 * @param domains   how many domains of theirs the blades show (the deletion guard weighs a removal by it)
 */
record UserFacts(UserIndex.Entry entry, SafeDir dir, boolean readable, UserFiles files,
                 SortedMap<String, VmFacts> vms, QuotaLimits quota, QuietUser.Builder rests, List<String> templates,
                 Optional<Instant> strandedAt, Set<String> away, Instant now, int domains)
        implements AutoCloseable {

    String user() {
        return entry.owner().user();
    }

    /** The same facts with {@code changed} VMs' facts (room reserved, moves chosen, removals guarded). */
    UserFacts withVms(SortedMap<String, VmFacts> changed) {
        return new UserFacts(entry, dir, readable, files, changed, quota, rests, templates, strandedAt, away, now,
                domains);
    }

    Owner owner() {
        return entry.owner();
    }

    /**
     * What a pass over this student depends on, but the clock: every VM's
     * facts and the state of its {@code .status} directory (a student who
     * removes a status file gets it back), and the templates there are.
     */
    List<Object> fingerprint() {
        List<Object> parts = new ArrayList<>();
        for (VmFacts vm : vms.values()) {
            parts.add(vm.at(Instant.EPOCH));
            parts.add(vm.asked().lifetime().stage(vm.now()));
        }
        String statusDir = "none";
        if (dir != null) {
            try {
                statusDir = dir.stat(StatusFiles.DIRECTORY).map(FileStat::version).orElse("absent");
            } catch (PosixException e) {
                statusDir = "unreadable";
            }
        }
        parts.add(statusDir);
        parts.add(templates);
        parts.add(rests.guestGeneration());  // an instructor's console opened or closed changes the status alone
        return parts;
    }

    /**
     * The next moment the clock alone changes a VM of this student (a
     * warning, an end, a blade down long enough for its VMs to start
     * elsewhere), if any.
     */
    Optional<Instant> nextChange() {
        Optional<Instant> until = strandedAt;
        for (VmFacts vm : vms.values()) {
            Optional<Instant> next = vm.asked().lifetime().nextChange(now);
            if (next.isPresent() && (until.isEmpty() || next.get().isBefore(until.get()))) {
                until = next;
            }
        }
        return until;
    }

    /**
     * The stat proof of this pass, when stats can tell it: its VM files and
     * its {@code .status}; none when the directory could not be read or a VM
     * waits for a blade (that hangs on other students and on time).
     */
    Optional<QuietUser> restsOn() {
        if (dir == null || !readable) {
            return Optional.empty();
        }
        for (VmFacts vm : vms.values()) {
            if (vm.domain().isEmpty() && vm.target().rendered() != null) {
                return Optional.empty();
            }
        }
        rests.until(nextChange());
        Path directory = entry.directory();
        for (SpecEntry spec : files.vms().values()) {
            if (!spec.errorReason().equals("duplicate")) {
                FileStat stat = files.stats().get(spec.fileName());
                rests.file(directory.resolve(spec.fileName()), stat == null ? null : Optional.of(stat));
            }
        }
        try {
            rests.file(directory.resolve(StatusFiles.DIRECTORY), dir.stat(StatusFiles.DIRECTORY));
        } catch (PosixException e) {
            rests.untold();
        }
        return rests.build();
    }

    @Override
    public void close() {
        if (dir != null) {
            dir.close();
        }
    }
}
