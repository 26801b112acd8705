package org.ievirsh.spec;

import java.util.List;
import java.util.Map;

/**
 * UserFiles is what a student's directory asks for: an entry per VM name,
 * and the names that were skipped altogether (with why), such as files whose
 * name is not a valid VM name.
 */
public record UserFiles(Map<String, SpecEntry> vms, List<String> skipped) {
}
