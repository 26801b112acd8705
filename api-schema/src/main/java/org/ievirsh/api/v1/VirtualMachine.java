package org.ievirsh.api.v1;

import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * VirtualMachine is what a student asked for in {@code <name>.yaml}, checked
 * against the schema. Optional fields are empty when the file leaves them out;
 * the template gives their values then. {@code expires} is the student's own
 * end date, if any (the admin's may be earlier).
 */
public record VirtualMachine(
        String name,
        Optional<String> template,
        String image,
        RunStrategy runStrategy,
        OptionalInt vcpus,
        OptionalLong memoryBytes,
        Optional<String> description,
        Optional<Expiry> expires) {

    /** NAME is the rule of VM, template and blade names. */
    public static final String NAME = "^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$";
    private static final java.util.regex.Pattern NAME_PATTERN = java.util.regex.Pattern.compile(NAME);

    /** True when {@code name} is a valid VM name. */
    public static boolean isValidName(String name) {
        return name != null && NAME_PATTERN.matcher(name).matches();
    }
}
