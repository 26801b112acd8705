package org.ievirsh.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** RevertCommand brings a VM back to one of its snapshots. */
@Command(name = "revert", mixinStandardHelpOptions = true,
        header = "Bring a VM back to one of its snapshots.",
        description = {"Everything written since the snapshot is lost. A running VM goes back to a snapshot taken",
                "while it ran, memory included, and keeps running. A snapshot taken while it was stopped is",
                "reverted while it is stopped (ie-virsh destroy NAME --wait first). The snapshot is kept: revert",
                "to it again as often as you like. The disk counts as changed: if the admin has images looked",
                "at, it is looked at again before its next start."},
        footer = {"", "Example:", "  ie-virsh revert web before-lab3", "", "Exit codes: 0 done, 1 refused or failed."})
final class RevertCommand implements Callable<Integer> {
    @Mixin
    StudentOptions options;

    @Parameters(index = "0", paramLabel = "NAME", description = "The VM.")
    String name;

    @Parameters(index = "1", paramLabel = "LABEL", description = "The snapshot (ie-virsh snapshots NAME lists them).")
    String label;

    @Override
    public Integer call() throws StudentOptions.StudentError {
        SnapshotCommand.checkNames(name, label);
        CourseCommand.ask(options, "REVERT " + name + " " + label)
                .forEach(line -> System.out.println(Output.printable(line)));
        return 0;
    }
}
