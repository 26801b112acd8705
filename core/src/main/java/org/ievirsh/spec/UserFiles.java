package org.ievirsh.spec;

import java.util.List;
import java.util.Map;
import org.ievirsh.posix.FileStat;

/**
 * UserFiles is what a student's directory asks for: an entry per VM name,
 * and the names that were skipped altogether (with why), such as files whose
 * name is not a valid VM name; {@code stats} holds, by file name, the stat
 * each VM file had when it was looked at (before it was read).
 */
public record UserFiles(Map<String, SpecEntry> vms, List<String> skipped, Map<String, FileStat> stats) {
    public static final UserFiles NONE = new UserFiles(Map.of(), List.of(), Map.of());
}
