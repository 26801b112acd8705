package org.ievirsh.status;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.ievirsh.api.v1.VirtualMachineFile;
import org.ievirsh.posix.PosixException;
import org.ievirsh.posix.SafeDir;

/**
 * StatusWriter keeps {@code .status/} of one student directory in step with
 * what the controller knows: {@code <vm>.yaml} (the status) and
 * {@code <vm>.xml} (the domain XML it defined), owned by the student,
 * written by rename so never half-written, never through a link, and not
 * rewritten when nothing changed.
 */
public final class StatusWriter {
    private static final int MAX_STATUS_BYTES = 64 * 1024;

    /** What was last written per directory and VM, so that unchanged statuses are left alone. */
    private final Map<String, Written> written = new ConcurrentHashMap<>();

    private record Written(VmStatus status, String xmlHash) {
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

        private Files(SafeDir dir, String key, int uid, int gid) {
            this.dir = dir;
            this.key = key;
            this.uid = uid;
            this.gid = gid;
        }

        /**
         * Writes the status of a VM if it says something new; returns the
         * status as stamped (with the times it carries in the file).
         */
        public VmStatus write(VmStatus status, Optional<String> definedXml) throws PosixException {
            String vmKey = key + "/" + status.name();
            Written last = written.get(vmKey);
            VmStatus previous = last != null ? last.status() : readBack(status.name()).orElse(null);
            String xmlHash = definedXml.map(x -> VirtualMachineFile.hash(x.getBytes(StandardCharsets.UTF_8)))
                    .orElse(last != null ? last.xmlHash() : null);
            if (definedXml.isPresent() && (last == null || !xmlHash.equals(last.xmlHash()))) {
                dir.writeAtomically(StatusFiles.xmlName(status.name()),
                        definedXml.get().getBytes(StandardCharsets.UTF_8), uid, gid, 0644);
            }
            if (status.sameAs(previous) && last != null) {
                written.put(vmKey, new Written(previous, xmlHash));
                return previous;
            }
            VmStatus stamped = status.sameAs(previous) ? previous : status.stamped(previous, time.now());
            dir.writeAtomically(StatusFiles.yamlName(status.name()), StatusFiles.toYaml(stamped), uid, gid, 0644);
            written.put(vmKey, new Written(stamped, xmlHash));
            return stamped;
        }

        /** Removes the status files of a VM that is gone. */
        public void remove(String vm) throws PosixException {
            dir.delete(StatusFiles.yamlName(vm));
            dir.delete(StatusFiles.xmlName(vm));
            written.remove(key + "/" + vm);
        }

        /** Names of the VMs that have a status file here. */
        public Set<String> present() throws PosixException {
            Set<String> names = new HashSet<>();
            for (SafeDir.Entry entry : dir.list()) {
                if (entry.name().endsWith(".yaml") && !entry.name().startsWith(".")) {
                    names.add(entry.name().substring(0, entry.name().length() - 5));
                }
            }
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
            dir.close();
        }
    }

    /**
     * Opens (creating it for the student if needed) the {@code .status}
     * directory of {@code userDir}; {@code key} names the directory in the
     * writer's memory.
     */
    public Files open(SafeDir userDir, String key, int uid, int gid) throws PosixException {
        return new Files(userDir.openOrCreateDir(StatusFiles.DIRECTORY, uid, gid, 0755), key, uid, gid);
    }

    /** Forgets what was written for a directory (it is gone). */
    public void forget(String key) {
        written.keySet().removeIf(k -> k.startsWith(key + "/"));
    }
}
