package org.ievirsh.reconcile;

import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.logging.Logger;
import org.ievirsh.api.v1.VirtualMachine;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.posix.FileStat;
import org.ievirsh.posix.PosixException;
import org.ievirsh.posix.SafeDir;
import org.ievirsh.status.StatusBook;
import org.ievirsh.status.StatusFiles;

/**
 * LastStatuses reads the last status of each of a student's VMs: what this
 * controller wrote, else the file in {@code .status} (a leader that has just
 * taken over has written nothing yet). Reading only, and read only while a
 * blade does not answer: it is what tells where a VM no blade shows may be.
 * A file is read through the student's directory handle, without following
 * a link, 64 KiB at most.
 */
final class LastStatuses {
    private static final Logger LOG = Logger.getLogger(LastStatuses.class.getName());
    private static final int MAX_BYTES = 64 * 1024;

    private LastStatuses() {
    }

    /** The last statuses of {@code user}'s VMs, by VM name; none if {@code dir} could not be opened. */
    static Map<String, VmStatus> read(String user, SafeDir dir, StatusBook book) {
        Map<String, VmStatus> last = new TreeMap<>(book.ofUser(user));
        if (dir == null) {
            return last;
        }
        try (SafeDir status = dir.openDir(StatusFiles.DIRECTORY)) {
            for (SafeDir.Entry e : status.list()) {
                String file = e.name();
                String vm = file.endsWith(".yaml") ? file.substring(0, file.length() - ".yaml".length()) : "";
                if (e.type().equals(FileStat.Type.REGULAR) && VirtualMachine.isValidName(vm) && !last.containsKey(vm)) {
                    read(status, file).ifPresent(s -> last.put(vm, s));
                }
            }
        } catch (PosixException | RuntimeException e) {
            LOG.fine(() -> "cannot read the statuses of " + user + ": " + e.getMessage());
        }
        return last;
    }

    private static Optional<VmStatus> read(SafeDir status, String file) {
        try {
            return status.read(file, MAX_BYTES).map(SafeDir.Contents::bytes)
                    .flatMap(bytes -> StatusFiles.fromYaml(file, bytes));
        } catch (PosixException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
