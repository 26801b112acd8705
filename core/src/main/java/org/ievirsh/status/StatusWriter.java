package org.ievirsh.status;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.posix.FileStat;
import org.ievirsh.posix.PosixException;
import org.ievirsh.posix.SafeDir;
import org.ievirsh.template.RenderedDomain;

/**
 * StatusWriter keeps {@code .status/} of one student directory in step with
 * what the controller knows: {@code <vm>.yaml} (the status) and
 * {@code <vm>.xml} (the domain XML it defined), owned by the student and
 * private to them (the directory 0700, its files 0600), written by rename so
 * never half-written, never through a link, and not rewritten when nothing
 * changed. What was written is kept in the caller's {@link Memory}, one per
 * directory, dropped with the student.
 */
public final class StatusWriter {
    private static final int MAX_STATUS_BYTES = 64 * 1024;
    private static final int DIRECTORY_MODE = 0700;
    private static final int FILE_MODE = 0600;

    private record Written(VmStatus status, RenderedDomain xml) {
    }

    /**
     * Memory is what the writer knows of one {@code .status}: what it last
     * wrote per VM, whether it listed the directory in this process, and the
     * stat it left the directory with. Any other stat (the student removed,
     * renamed or added a file there, or made a new one) means "know nothing",
     * and the files are listed and read again.
     */
    public static final class Memory {
        private final Map<String, Written> written = new HashMap<>();
        private boolean listed;
        private FileStat left;

        private void forget() {
            written.clear();
            listed = false;
        }
    }

    /** Time is where the writer reads "now" for updatedAt and transitions. */
    public interface Time {
        String now();

        /**
         * "Now" on {@code clock} to the second, ISO-8601 in UTC. Within one
         * second it gives the same string object: the thousands of statuses
         * stamped in that second keep one copy of it, not one each.
         */
        static Time seconds(Clock clock) {
            return new Time() {
                private volatile Stamp last = new Stamp(Long.MIN_VALUE, "");

                @Override
                public String now() {
                    long second = clock.instant().getEpochSecond();
                    Stamp seen = last;
                    if (seen.second() != second) {
                        seen = new Stamp(second, Instant.ofEpochSecond(second).toString());
                        last = seen;
                    }
                    return seen.text();
                }
            };
        }
    }

    private record Stamp(long second, String text) {
    }

    private final Time time;

    public StatusWriter(Time time) {
        this.time = time;
    }

    /** Files is one open {@code .status} directory and the student it is written for. */
    public final class Files implements AutoCloseable {
        private final SafeDir dir;
        private final Memory memory;
        private final int uid;
        private final int gid;
        private final Set<String> onDisk = new HashSet<>();

        private Files(SafeDir dir, Memory memory, int uid, int gid) throws PosixException {
            this.dir = dir;
            this.memory = memory;
            this.uid = uid;
            this.gid = gid;
            if (!memory.listed) {
                makePrivate();
                for (SafeDir.Entry entry : dir.list()) {
                    if (entry.name().endsWith(".yaml") && !entry.name().startsWith(".")) {
                        onDisk.add(entry.name().substring(0, entry.name().length() - 5));
                    }
                }
                memory.listed = true;
            }
        }

        /** A status directory and files from before they were private (0755, 0644) become private now. */
        private void makePrivate() throws PosixException {
            FileStat stat = dir.stat();
            if (stat.uid() == uid && (stat.mode() & 07777) != DIRECTORY_MODE) {
                dir.chown(uid, gid, DIRECTORY_MODE);
            }
            for (SafeDir.Entry entry : dir.list()) {
                String name = entry.name();
                if (!name.startsWith(".") && (name.endsWith(".yaml") || name.endsWith(".xml"))) {
                    dir.chmodOwnFile(name, uid, FILE_MODE);
                }
            }
        }

        /**
         * Writes the status of a VM if it says something new; returns the
         * status as stamped (with the times it carries in the file).
         */
        public VmStatus write(VmStatus status, Optional<RenderedDomain> definedXml) throws PosixException {
            String vmKey = status.name();
            Written last = memory.written.get(vmKey);
            VmStatus previous = last != null ? last.status()
                    : !onDisk.contains(status.name()) ? null : readBack(status.name()).orElse(null);
            RenderedDomain xml = definedXml.orElse(last != null ? last.xml() : null);
            if (definedXml.isPresent() && (last == null || !xml.sameTextAs(last.xml()))) {
                dir.writeAtomically(StatusFiles.xmlName(status.name()),
                        definedXml.get().xml().getBytes(StandardCharsets.UTF_8), uid, gid, FILE_MODE);
            }
            if (status.sameAs(previous) && last != null) {
                memory.written.put(vmKey, new Written(previous, xml));
                return previous;
            }
            VmStatus stamped = status.sameAs(previous) ? previous : status.stamped(previous, time.now());
            dir.writeAtomically(StatusFiles.yamlName(status.name()), StatusFiles.toYaml(stamped), uid, gid,
                    FILE_MODE);
            memory.written.put(vmKey, new Written(stamped, xml));
            return stamped;
        }

        /** Removes the status files of a VM that is gone. */
        public void remove(String vm) throws PosixException {
            dir.delete(StatusFiles.yamlName(vm));
            dir.delete(StatusFiles.xmlName(vm));
            memory.written.remove(vm);
        }

        /**
         * Names of the VMs that may have a status file here: read from the
         * directory the first time, then known from what was written.
         */
        public Set<String> present() {
            Set<String> names = new HashSet<>(onDisk);
            names.addAll(memory.written.keySet());
            return names;
        }

        private Optional<VmStatus> readBack(String vm) throws PosixException {
            Optional<SafeDir.Contents> contents;
            try {
                contents = dir.read(StatusFiles.yamlName(vm), MAX_STATUS_BYTES);
            } catch (PosixException e) {
                if (e.isSymlinkRefused()) {
                    return Optional.empty(); // a link the student put there: it is replaced below
                }
                throw e;
            }
            if (contents.isEmpty() || contents.get().bytes() == null) {
                return Optional.empty();
            }
            return StatusFiles.fromYaml(vm + ".yaml", contents.get().bytes()).filter(s -> vm.equals(s.name()));
        }

        @Override
        public void close() {
            try {
                memory.left = dir.stat();
            } catch (PosixException e) {
                memory.left = null;
            }
            dir.close();
        }
    }

    /**
     * Opens (creating it for the student if needed) the {@code .status}
     * directory of {@code userDir}, with what was written there kept in
     * {@code memory}.
     */
    public Files open(SafeDir userDir, Memory memory, int uid, int gid) throws PosixException {
        SafeDir dir = userDir.openOrCreateDir(StatusFiles.DIRECTORY, uid, gid, DIRECTORY_MODE);
        try {
            FileStat left = memory.left;
            memory.left = null;
            if (!dir.stat().equals(left)) {
                memory.forget();
            }
            return new Files(dir, memory, uid, gid);
        } catch (PosixException | RuntimeException e) {
            dir.close();
            memory.forget();
            throw e;
        }
    }
}
