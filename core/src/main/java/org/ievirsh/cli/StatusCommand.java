package org.ievirsh.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.ievirsh.api.v1.Condition;
import org.ievirsh.api.v1.VirtualMachineFile;
import org.ievirsh.api.v1.VmStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** StatusCommand prints the status of one VM or of all, for people or scripts. */
@Command(name = "status", mixinStandardHelpOptions = true,
        header = "Print the status of a VM, or of every VM, readable.",
        description = "Print the status the controller wrote for NAME (or for every VM), readable.",
        footer = {"", "Examples:", "  ie-virsh status web", "  ie-virsh status --output yaml",
                "", "Exit codes: 0 printed, 1 no such VM or no status yet."})
final class StatusCommand implements Callable<Integer> {
    @Mixin
    StudentOptions options;

    @Parameters(arity = "0..1", paramLabel = "NAME", description = "The VM (default: all).")
    String name;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", description = "text (default), yaml or json.")
    String output = "text";

    @Override
    public Integer call() throws IOException, StudentOptions.StudentError {
        Path dir = options.existingDirectory();
        List<VmStatus> statuses = new ArrayList<>();
        if (name != null) {
            Optional<VmStatus> one = StatusReader.read(dir, name);
            if (one.isEmpty()) {
                System.err.println("ie-virsh: no status for " + name + (StatusReader.hasFile(dir, name)
                        ? " yet; the controller has not reported on it (is it running?)" : "; there is no such VM"));
                return 1;
            }
            statuses.add(one.get());
        } else {
            for (Map.Entry<String, Optional<VmStatus>> e : StatusReader.all(dir).entrySet()) {
                e.getValue().ifPresent(statuses::add);
            }
        }
        if (!output.equals("text")) {
            return Output.print(name != null ? statuses.get(0) : statuses, output);
        }
        for (VmStatus s : statuses) {
            print(dir, s);
        }
        return 0;
    }

    /** Prints a status; every text is shown safe (a value the student wrote may hold terminal escapes). */
    private static void print(Path dir, VmStatus s) throws IOException {
        System.out.println(Output.printable(s.name() + " (" + s.owner().user() + ", uid " + s.owner().uid() + ")"));
        System.out.println("  phase:      " + s.phase() + (s.message() == null || s.message().isEmpty() ? ""
                : ": " + Output.printable(s.message())));
        line("blade", s.blade());
        line("domain", s.domain());
        line("uuid", s.uuid());
        line("mac", s.mac());
        line("ip", s.ip());
        line("vcpus", s.vcpus() == null ? null : s.vcpus().toString());
        line("memory", s.memory());
        line("template", s.template());
        line("image", s.image());
        Path file = StudentOptions.vmFile(dir, s.name());
        String now = Files.isRegularFile(file) ? VirtualMachineFile.hash(Files.readAllBytes(file)) : null;
        line("spec", s.observedSpecHash() + (now == null ? " (the file is gone)"
                : now.equals(s.observedSpecHash()) ? " (the file as it is now)"
                : " (the file changed since; the controller will report on it)"));
        line("updated", s.updatedAt());
        System.out.println("  conditions:");
        for (Condition c : s.conditions()) {
            System.out.println(Output.printable(String.format("    %-16s %-8s %-22s %s", c.type(), c.status(),
                    c.reason(), c.message() == null ? "" : c.message())).stripTrailing());
        }
    }

    private static void line(String label, String value) {
        if (value != null && !value.isEmpty()) {
            System.out.println(String.format("  %-11s %s", label + ":", Output.printable(value)));
        }
    }
}
