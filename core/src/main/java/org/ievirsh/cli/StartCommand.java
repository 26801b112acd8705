package org.ievirsh.cli;

import org.ievirsh.api.v1.Phase;
import picocli.CommandLine.Command;

/** StartCommand sets runStrategy to Always. */
@Command(name = "start", mixinStandardHelpOptions = true,
        header = "Keep a VM running (runStrategy: Always).",
        description = "Keep the VM running: set runStrategy: Always in NAME.yaml (nothing else changes).",
        footer = {"", "Example:", "  ie-virsh start web --wait",
                "", "Exit codes: 0 done (with --wait: running), 1 refused or failed, 3 --wait timed out."})
final class StartCommand extends RunStrategyCommand {
    @Override
    String strategy() {
        return "Always";
    }

    @Override
    Phase expected() {
        return Phase.Running;
    }
}
