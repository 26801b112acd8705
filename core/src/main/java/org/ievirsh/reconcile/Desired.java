package org.ievirsh.reconcile;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.ievirsh.api.Problem;
import org.ievirsh.api.v1.VirtualMachine;

/** Desired is what the student's file asks for one VM name. */
public sealed interface Desired {

    /** The file is gone: the VM is to be removed. */
    record Absent() implements Desired {
    }

    /**
     * The file is there but cannot be used; whatever exists stays as it is.
     * {@code reason} is the short word of the metric (yaml, schema, template, symlink, ...).
     */
    record Invalid(List<Problem> problems, Optional<String> specHash, String reason) implements Desired {
    }

    /** A valid file, within the template's limits. */
    record Valid(VirtualMachine vm, String specHash, String template, int vcpus, long memoryBytes)
            implements Desired {
        // Written out for the same reason as VmFacts.equals.
        @Override
        public boolean equals(Object o) {
            return this == o || o instanceof Valid v && vcpus == v.vcpus && memoryBytes == v.memoryBytes
                    && Objects.equals(specHash, v.specHash) && Objects.equals(template, v.template)
                    && Objects.equals(vm, v.vm);
        }

        @Override
        public int hashCode() {
            return Objects.hash(vm, specHash, template, vcpus, memoryBytes);
        }
    }
}
