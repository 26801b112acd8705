package org.ievirsh.cli;

import org.ievirsh.api.v1.Phase;
import picocli.CommandLine.Command;

/** DestroyCommand sets runStrategy to Halted: the VM is stopped, never deleted. */
@Command(name = "destroy", mixinStandardHelpOptions = true,
        header = "Stop a VM and keep it stopped (runStrategy: Halted).",
        description = {"Stop the VM: set runStrategy: Halted in NAME.yaml (nothing else changes). The guest is",
                "asked to shut down and forced off after the admin's grace period. Nothing is deleted."},
        footer = {"", "Example:", "  ie-virsh destroy web --wait=90",
                "", "Exit codes: 0 done (with --wait: stopped), 1 refused or failed, 3 --wait timed out."})
final class DestroyCommand extends RunStrategyCommand {
    @Override
    String strategy() {
        return "Halted";
    }

    @Override
    Phase expected() {
        return Phase.Stopped;
    }
}
