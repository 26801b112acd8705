package org.ievirsh.cli;

import java.util.concurrent.Callable;
import org.ievirsh.api.v1.VirtualMachine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * SnapshotCommand asks the controller, over the control socket, to take a
 * snapshot of one of the caller's VMs, or (with {@code --delete}) to delete
 * one. The controller knows the caller from the kernel alone; the snapshot
 * is written by QEMU or by {@code qemu-img}, both with the student's rights.
 */
@Command(name = "snapshot", mixinStandardHelpOptions = true,
        header = "Take a snapshot of a VM (its disk, and its memory while it runs), or delete one.",
        description = {"A running VM is snapshotted running: revert brings back its disk and memory as they were,",
                "the VM still running. A stopped VM's snapshot holds its disk. At most snapshots.maxPerVm of each",
                "VM (the admin's config; 5 unless set). A VM that is moving to another blade, on a blade being",
                "drained or expired is refused, and nothing is made."},
        footer = {"", "Examples:", "  ie-virsh snapshot web before-lab3", "  ie-virsh snapshot web before-lab3 --delete",
                "", "Exit codes: 0 done, 1 refused or failed (the message says why)."})
final class SnapshotCommand implements Callable<Integer> {
    @Mixin
    StudentOptions options;

    @Parameters(index = "0", paramLabel = "NAME", description = "The VM.")
    String name;

    @Parameters(index = "1", paramLabel = "LABEL",
            description = "The snapshot's name: lowercase letters, digits and '-', at most 32.")
    String label;

    @Option(names = "--delete", description = "Delete snapshot LABEL instead (its space is freed).")
    boolean delete;

    @Override
    public Integer call() throws StudentOptions.StudentError {
        checkNames(name, label);
        CourseCommand.ask(options, (delete ? "DELETE-SNAPSHOT " : "SNAPSHOT ") + name + " " + label)
                .forEach(line -> System.out.println(Output.printable(line)));
        return 0;
    }

    /** Refuses, before asking anyone, a VM name or label the controller would refuse. */
    static void checkNames(String name, String label) throws StudentOptions.StudentError {
        if (!VirtualMachine.isValidName(name)) {
            throw new StudentOptions.StudentError(Output.printable(name) + " is not a VM name (lowercase letters,"
                    + " digits and '-', at most 32)");
        }
        if (label != null && !VirtualMachine.isValidName(label)) {
            throw new StudentOptions.StudentError(Output.printable(label) + " is not a snapshot label (lowercase"
                    + " letters, digits and '-', at most 32, as VM names)");
        }
    }
}
