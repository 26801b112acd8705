package org.ievirsh.status;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.ievirsh.posix.FileStat;
import org.ievirsh.posix.PosixException;
import org.ievirsh.posix.SafeDir;
import org.ievirsh.template.RenderedDomain;

/**
 * StatusWriter keeps {@code .status/} of one student directory in step with
 * what the controller knows: {@code <vm>.yaml} (the status) and
 * {@code <vm>.xml} (the domain XML it defined), owned by the student,
 * written by rename so never half-written, never through a link, and not
 * rewritten when nothing changed.
 */
public final class StatusWriter {
    private static final int MAX_STATUS_BYTES = 64 * 1024;

    /** What was last written, per directory and VM, so that unchanged statuses are left alone. */
    private final Map<String, Map<String, Written>> written = new ConcurrentHashMap<>();
    /** Directories whose {@code .status} was listed in this process: their files are known from then on. */
    private final Set<String> listed = ConcurrentHashMap.newKeySet();
    /**
     * The stat of each {@code .status} as the writer left it: any other (the
     * student removed, renamed or added a file there, or made a new one) means
     * "know nothing", and the files are listed and read again.
     */
    private final Map<String, FileStat> left = new ConcurrentHashMap<>();

    private record Written(VmStatus status, String xmlKey) {
    }

    /** Time is where the writer reads "now" for updatedAt and transitions. */
    public interface Time {
        String now();
    }

    private final Time time;

    public StatusWriter(Time time) {
        this.time = time;
    }

    /** Files is one open {@code .status} directory and the student it is written for. */
    public final class Files implements AutoCloseable {
        private final SafeDir dir;
        private final String key;
        private final int uid;
        private final int gid;

        private final Set<String> onDisk;
        private final Map<String, Written> mine;

        private Files(SafeDir dir, String key, int uid, int gid) throws PosixException {
            this.dir = dir;
            this.key = key;
            this.uid = uid;
            this.gid = gid;
            this.mine = written.computeIfAbsent(key, k -> new ConcurrentHashMap<>());
            this.onDisk = new HashSet<>();
            if (listed.add(key)) {
                for (SafeDir.Entry entry : dir.list()) {
                    if (entry.name().endsWith(".yaml") && !entry.name().startsWith(".")) {
                        onDisk.add(entry.name().substring(0, entry.name().length() - 5));
                    }
                }
            }
        }

        /**
         * Writes the status of a VM if it says something new; returns the
         * status as stamped (with the times it carries in the file).
         */
        public VmStatus write(VmStatus status, Optional<RenderedDomain> definedXml) throws PosixException {
            String vmKey = status.name();
            Written last = mine.get(vmKey);
            VmStatus previous = last != null ? last.status()
                    : listed.contains(key) && !onDisk.contains(status.name()) ? null
                    : readBack(status.name()).orElse(null);
            String xmlKey = definedXml.map(RenderedDomain::key).orElse(last != null ? last.xmlKey() : null);
            if (definedXml.isPresent() && (last == null || !xmlKey.equals(last.xmlKey()))) {
                dir.writeAtomically(StatusFiles.xmlName(status.name()),
                        definedXml.get().xml().getBytes(StandardCharsets.UTF_8), uid, gid, 0644);
            }
            if (status.sameAs(previous) && last != null) {
                mine.put(vmKey, new Written(previous, xmlKey));
                return previous;
            }
            VmStatus stamped = status.sameAs(previous) ? previous : status.stamped(previous, time.now());
            dir.writeAtomically(StatusFiles.yamlName(status.name()), StatusFiles.toYaml(stamped), uid, gid, 0644);
            mine.put(vmKey, new Written(stamped, xmlKey));
            return stamped;
        }

        /** Removes the status files of a VM that is gone. */
        public void remove(String vm) throws PosixException {
            dir.delete(StatusFiles.yamlName(vm));
            dir.delete(StatusFiles.xmlName(vm));
            mine.remove(vm);
        }

        /**
         * Names of the VMs that may have a status file here: read from the
         * directory the first time, then known from what was written.
         */
        public Set<String> present() throws PosixException {
            Set<String> names = new HashSet<>(onDisk);
            names.addAll(mine.keySet());
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
                left.put(key, dir.stat());
            } catch (PosixException e) {
                left.remove(key);
            }
            dir.close();
        }
    }

    /**
     * Opens (creating it for the student if needed) the {@code .status}
     * directory of {@code userDir}; {@code key} names the directory in the
     * writer's memory.
     */
    public Files open(SafeDir userDir, String key, int uid, int gid) throws PosixException {
        SafeDir dir = userDir.openOrCreateDir(StatusFiles.DIRECTORY, uid, gid, 0755);
        try {
            if (!dir.stat().equals(left.remove(key))) {
                forget(key);
            }
            return new Files(dir, key, uid, gid);
        } catch (PosixException | RuntimeException e) {
            dir.close();
            listed.remove(key);
            throw e;
        }
    }

    /** Forgets what was written for a directory (it is gone). */
    public void forget(String key) {
        written.remove(key);
        listed.remove(key);
    }

    /** Forgets a directory entirely (its student is gone). */
    public void forgetDirectory(String key) {
        forget(key);
        left.remove(key);
    }
}
