package org.ievirsh.spec;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.logging.Logger;
import org.ievirsh.api.Parsed;
import org.ievirsh.api.Problem;
import org.ievirsh.api.v1.VirtualMachine;
import org.ievirsh.api.v1.VirtualMachineFile;
import org.ievirsh.api.yaml.SafeYaml;
import org.ievirsh.posix.FileStat;
import org.ievirsh.posix.PosixException;
import org.ievirsh.posix.SafeDir;
import org.ievirsh.status.StatusFiles;

/**
 * SpecReader reads the VM files of one student directory. Only regular files
 * owned by the directory's owner, of at most 64 KiB, are read; a symbolic
 * link, a file of someone else or an oversized file under a VM's name makes
 * that VM invalid (its domain is left as it is) and says why. A file is
 * parsed again only when its inode, size or times changed. At most
 * {@code maxFiles} files are read per directory (those of VMs that have a
 * domain first): the work one student can make is bounded, and the rest are
 * reported once, in the status of the first of them. Nothing a file holds
 * makes a read throw: every problem is that file's.
 */
public final class SpecReader {
    private static final Logger LOG = Logger.getLogger(SpecReader.class.getName());

    private record Cached(String version, SpecEntry entry) {
    }

    /**
     * Memory is what was parsed in one directory, by file (a file unchanged
     * since is not read again), and whether it holds too many files now (it
     * is logged when that begins and when it ends).
     */
    public static final class Memory {
        private Map<String, Cached> parsed = Map.of();
        private boolean overflowing;
    }

    /**
     * True for a file name the reader looks at ({@code <name>.yaml} or
     * {@code .yml}, not hidden): any other file in a student's directory (an
     * editor's swap or backup file, a save's temporary file, {@code .status})
     * changes nothing it reads.
     */
    public static boolean reads(String file) {
        return !file.startsWith(".") && !file.equals(StatusFiles.DIRECTORY) && VirtualMachineFile.baseName(file) != null;
    }

    /**
     * Reads {@code dir} (called {@code name} in the log), whose files must be
     * owned by {@code fileUid}, with what was parsed before in
     * {@code memory}. At most {@code maxFiles} VM files are read, those of
     * {@code withDomains} (VMs that exist) first.
     */
    public UserFiles read(SafeDir dir, String name, int fileUid, Memory memory, int maxFiles,
                          Set<String> withDomains) throws PosixException {
        Map<String, List<SafeDir.Entry>> byVm = new TreeMap<>();
        List<String> skipped = new ArrayList<>();
        for (SafeDir.Entry entry : dir.list()) {
            String file = entry.name();
            if (!reads(file)) {
                continue;
            }
            String vm = VirtualMachineFile.baseName(file);
            if (!VirtualMachine.isValidName(vm)) {
                if (skipped.size() < maxFiles) {
                    skipped.add(SafeYaml.quote(file) + ": not a valid VM name (use lower-case letters, digits and"
                            + " '-', 1 to 32 characters)");
                }
                continue;
            }
            byVm.computeIfAbsent(vm, k -> new ArrayList<>()).add(entry);
        }
        List<String> order = new ArrayList<>(byVm.keySet());
        order.sort(Comparator.comparing((String vm) -> !withDomains.contains(vm)).thenComparing(vm -> vm));
        Map<String, SpecEntry> vms = new HashMap<>();
        Map<String, Cached> before = memory.parsed;
        Map<String, Cached> after = new HashMap<>();
        Map<String, FileStat> stats = new HashMap<>();
        for (int i = 0; i < order.size() && i < maxFiles; i++) {
            String vm = order.get(i);
            List<SafeDir.Entry> files = byVm.get(vm);
            if (files.size() > 1) {
                vms.put(vm, invalid(vm, vm + ".yaml", "both " + vm + ".yaml and " + vm + ".yml exist; remove one", 0,
                        "duplicate"));
                continue;
            }
            String fileName = files.get(0).name();
            try {
                vms.put(vm, readOne(dir, vm, fileName, fileUid, before, after, stats));
            } catch (RuntimeException e) {
                // Whatever a file holds, it is that file's problem, never the whole directory's.
                vms.put(vm, invalid(vm, fileName, "cannot be read (" + e + "); fix or remove it", 0, "yaml"));
            }
        }
        if (order.size() > maxFiles) {
            String first = order.get(maxFiles);
            int ignored = order.size() - maxFiles;
            vms.put(first, invalid(first, byVm.get(first).get(0).name(), "not read: this directory has "
                    + order.size() + " VM files, and at most " + maxFiles + " are read (users.maxFiles); this file and "
                    + (ignored - 1) + " more are ignored: remove the files you do not need", 0, "too_many"));
            if (!memory.overflowing) {
                memory.overflowing = true;
                LOG.warning(name + " has " + order.size() + " VM files; only the first " + maxFiles
                        + " are read (users.maxFiles), the rest are ignored while there are too many");
            }
        } else if (memory.overflowing) {
            memory.overflowing = false;
            LOG.info(name + " has " + order.size() + " VM files again: every one is read");
        }
        memory.parsed = after;
        return new UserFiles(vms, skipped, stats);
    }

    private SpecEntry readOne(SafeDir dir, String vm, String fileName, int fileUid, Map<String, Cached> known,
                              Map<String, Cached> after, Map<String, FileStat> stats) throws PosixException {
        Optional<FileStat> before = dir.stat(fileName);
        if (before.isEmpty()) {
            return invalid(vm, fileName, "the file disappeared while it was read; it is read again", 0, "not_regular");
        }
        FileStat stat = before.get();
        stats.put(fileName, stat);
        long age = stat.birthNanos() != 0 ? stat.birthNanos() : stat.ctimeNanos();
        String refusal = refusal(stat, fileUid);
        if (refusal != null) {
            return invalid(vm, fileName, refusal, age, refusalReason(stat, fileUid));
        }
        Cached cached = known.get(fileName);
        if (cached != null && cached.version().equals(stat.version())) {
            after.put(fileName, cached);
            return cached.entry();
        }
        Optional<SafeDir.Contents> contents = dir.read(fileName, SafeYaml.MAX_BYTES);
        if (contents.isEmpty()) {
            return invalid(vm, fileName, "the file disappeared while it was read; it is read again", age,
                    "not_regular");
        }
        // Check the opened file itself: the name may have been swapped after the first look.
        FileStat opened = contents.get().stat();
        refusal = refusal(opened, fileUid);
        if (refusal != null || contents.get().bytes() == null) {
            return invalid(vm, fileName, refusal != null ? refusal : "the file changed while it was read", age,
                    refusal != null ? refusalReason(opened, fileUid) : "too_large");
        }
        byte[] bytes = contents.get().bytes();
        Parsed<VirtualMachineFile> parsed = VirtualMachineFile.parse(fileName, bytes);
        String reason = parsed.isOk() ? "" : SafeYaml.parse(fileName, bytes).isOk() ? "schema" : "yaml";
        // A parsed file carries its hash already: the same string, not a second hashing and copy of it.
        String specHash = parsed.isOk() ? parsed.value().get().specHash() : VirtualMachineFile.hash(bytes);
        SpecEntry entry = new SpecEntry(vm, fileName, parsed.value(), parsed.problems(), Optional.of(specHash), age,
                reason);
        after.put(fileName, new Cached(contents.get().stat().version(), entry));
        return entry;
    }

    private static String refusalReason(FileStat stat, int fileUid) {
        if (stat.type() == FileStat.Type.SYMLINK) {
            return "symlink";
        }
        if (!stat.isRegular()) {
            return "not_regular";
        }
        return stat.uid() != fileUid ? "foreign_owner" : "too_large";
    }

    private static String refusal(FileStat stat, int fileUid) {
        if (stat.type() == FileStat.Type.SYMLINK) {
            return "is a symbolic link; it is ignored: keep the file itself in this directory";
        }
        if (!stat.isRegular()) {
            return "is not a regular file; it is ignored";
        }
        if (stat.uid() != fileUid) {
            return "belongs to uid " + stat.uid() + ", not to you; it is ignored (copy it to make it yours)";
        }
        if (stat.size() > SafeYaml.MAX_BYTES) {
            return "has " + stat.size() + " bytes; files over " + SafeYaml.MAX_BYTES + " bytes are ignored";
        }
        return null;
    }

    private static SpecEntry invalid(String vm, String fileName, String why, long age, String reason) {
        return new SpecEntry(vm, fileName, Optional.empty(), List.of(Problem.ofFile(fileName, why)), Optional.empty(),
                age, reason);
    }
}
