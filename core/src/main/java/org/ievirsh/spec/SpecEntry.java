package org.ievirsh.spec;

import java.util.List;
import java.util.Optional;
import org.ievirsh.api.Problem;
import org.ievirsh.api.v1.VirtualMachineFile;

/**
 * SpecEntry is one VM name found in a student's directory: its file, parsed
 * and valid, or the problems that make it invalid (including files that are
 * present but ignored: links, files of others, oversized files).
 *
 * @param specHash    the hash of the file's bytes, when they could be read
 * @param age         the file's birth time (its change time where birth is not recorded): older first
 * @param errorReason for an invalid file, a short word for the metric: yaml, schema, symlink, ...
 */
public record SpecEntry(String vm, String fileName, Optional<VirtualMachineFile> file, List<Problem> problems,
                        Optional<String> specHash, long age, String errorReason) {

    /** ERROR_REASONS are the values of {@code errorReason}, for metrics registered at zero. */
    public static final List<String> ERROR_REASONS = List.of("yaml", "schema", "template", "symlink",
            "foreign_owner", "too_large", "not_regular", "duplicate", "too_many");

    public boolean isValid() {
        return file.isPresent();
    }
}
