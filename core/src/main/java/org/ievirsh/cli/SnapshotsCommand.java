package org.ievirsh.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** SnapshotsCommand lists a VM's snapshots, as its image holds them. */
@Command(name = "snapshots", mixinStandardHelpOptions = true,
        header = "List a VM's snapshots.",
        description = {"LABEL, CREATED (UTC), STATE (running: taken while the VM ran, with its memory; stopped: its",
                "disk alone), SIZE (the memory state saved with it; the disk blocks a snapshot keeps are part of",
                "the image's own size)."},
        footer = {"", "Example:", "  ie-virsh snapshots web", "", "Exit codes: 0 listed, 1 refused or failed."})
final class SnapshotsCommand implements Callable<Integer> {
    static final List<String> COLUMNS = List.of("LABEL", "CREATED", "STATE", "SIZE");

    @Mixin
    StudentOptions options;

    @Parameters(paramLabel = "NAME", description = "The VM.")
    String name;

    @Override
    public Integer call() throws StudentOptions.StudentError {
        SnapshotCommand.checkNames(name, null);
        CourseCommand.printTable(COLUMNS, CourseCommand.ask(options, "SNAPSHOTS " + name));
        return 0;
    }
}
