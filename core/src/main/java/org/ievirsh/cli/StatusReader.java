package org.ievirsh.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.ievirsh.api.v1.VirtualMachine;
import org.ievirsh.api.v1.VirtualMachineFile;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.status.StatusFiles;

/** StatusReader reads what the controller wrote to {@code .status/}, as the student. */
final class StatusReader {
    private StatusReader() {
    }

    static Optional<VmStatus> read(Path dir, String vm) {
        Path file = dir.resolve(StatusFiles.DIRECTORY).resolve(StatusFiles.yamlName(vm));
        try {
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) || Files.size(file) > 64 * 1024) {
                return Optional.empty();
            }
            return StatusFiles.fromYaml(file.getFileName().toString(), Files.readAllBytes(file));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Every VM name with a file or a status, with its status if there is one. */
    static Map<String, Optional<VmStatus>> all(Path dir) throws IOException {
        Map<String, Optional<VmStatus>> vms = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("."))
                    .map(VirtualMachineFile::baseName).filter(VirtualMachine::isValidName)
                    .forEach(n -> vms.put(n, Optional.empty()));
        }
        Path statusDir = dir.resolve(StatusFiles.DIRECTORY);
        if (Files.isDirectory(statusDir, LinkOption.NOFOLLOW_LINKS)) {
            try (Stream<Path> files = Files.list(statusDir)) {
                files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml") && !n.startsWith("."))
                        .map(n -> n.substring(0, n.length() - 5)).filter(VirtualMachine::isValidName)
                        .forEach(n -> vms.put(n, Optional.empty()));
            }
        }
        vms.replaceAll((name, none) -> read(dir, name));
        return vms;
    }

    /**
     * The files that look like VM files but whose name makes no valid VM
     * name, with what to do: the controller ignores them, and says so here
     * (they never get a status).
     */
    static Map<String, String> badNames(Path dir) throws IOException {
        Map<String, String> bad = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("."))
                    .filter(n -> VirtualMachineFile.baseName(n) != null
                            && !VirtualMachine.isValidName(VirtualMachineFile.baseName(n)))
                    .forEach(n -> bad.put(n, "not a valid VM name: use lower-case letters, digits and '-', 1 to 32"
                            + " characters (rename the file); the controller ignores it"));
        }
        return bad;
    }

    /** True when the VM's file exists. */
    static boolean hasFile(Path dir, String vm) {
        return Files.exists(dir.resolve(vm + ".yaml"), LinkOption.NOFOLLOW_LINKS)
                || Files.exists(dir.resolve(vm + ".yml"), LinkOption.NOFOLLOW_LINKS);
    }
}
