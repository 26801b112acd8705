package org.ievirsh.api.v1;

import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * VirtualMachine is what a student asked for in {@code <name>.yaml}, checked
 * against the schema. Optional fields are empty when the file leaves them out;
 * the template gives their values then. {@code expires} is the student's own
 * end date, if any (the admin's may be earlier). With {@code baseImage}, the
 * image is a copy-on-write overlay of the admin's base of that name, made by
 * the controller when missing ({@code image} then defaults to
 * {@code <name>.qcow2}; {@code diskBytes} is its virtual size, at least the
 * base's); {@code firstBoot} ({@code cloud-init} or {@code none}) overrides
 * the base's choice of a NoCloud seed. {@code course} names the course the
 * VM belongs to (the admin's {@code courses}).
 */
public record VirtualMachine(
        String name,
        Optional<String> template,
        String image,
        RunStrategy runStrategy,
        OptionalInt vcpus,
        OptionalLong memoryBytes,
        Optional<String> description,
        Optional<Expiry> expires,
        Optional<String> baseImage,
        OptionalLong diskBytes,
        Optional<FirstBoot> firstBoot,
        Optional<String> course) {

    /** FirstBoot is how a VM learns its name and its student's keys at its first boot. */
    public enum FirstBoot {
        CLOUD_INIT("cloud-init"), NONE("none");

        private final String text;

        FirstBoot(String text) {
            this.text = text;
        }

        /** As the files write it. */
        public String text() {
            return text;
        }

        public static FirstBoot of(String text) {
            return text.equals("cloud-init") ? CLOUD_INIT : NONE;
        }
    }

    /** A VM as {@code this} with {@code strategy} instead of its own. */
    public VirtualMachine withRunStrategy(RunStrategy strategy) {
        return new VirtualMachine(name, template, image, strategy, vcpus, memoryBytes, description, expires,
                baseImage, diskBytes, firstBoot, course);
    }

    /** NAME is the rule of VM, template and blade names. */
    public static final String NAME = "^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$";
    private static final java.util.regex.Pattern NAME_PATTERN = java.util.regex.Pattern.compile(NAME);

    /** True when {@code name} is a valid VM name. */
    public static boolean isValidName(String name) {
        return name != null && NAME_PATTERN.matcher(name).matches();
    }
}
