package org.ievirsh.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** UndefineCommand removes the VM's file; the controller then stops and undefines the VM (the image stays). */
@Command(name = "undefine", mixinStandardHelpOptions = true,
        header = "Remove NAME.yaml: the VM is stopped and undefined, the image kept.",
        description = {"Remove NAME.yaml: the controller stops the VM and undefines it. Your image is kept."},
        footer = {"", "Example:", "  ie-virsh undefine web --wait",
                "", "Exit codes: 0 removed (with --wait: the VM is gone), 1 refused, 3 --wait timed out."})
final class UndefineCommand implements Callable<Integer> {
    @Mixin
    StudentOptions options;

    @Parameters(paramLabel = "NAME", description = "The VM.")
    String name;

    @Option(names = "--wait", arity = "0..1", fallbackValue = "120", paramLabel = "SECONDS",
            description = "Wait until the VM is gone; default 120 seconds.")
    Integer wait;

    @Override
    public Integer call() throws InterruptedException, StudentOptions.StudentError {
        Path file = StudentOptions.vmFile(options.existingDirectory(), name);
        if (!Files.exists(file) && !Files.isSymbolicLink(file)) {
            throw new StudentOptions.StudentError("there is no " + file + " (ie-virsh list shows your VMs)");
        }
        StudentOptions.ownEntry(file);
        try {
            Files.delete(file);
        } catch (IOException e) {
            throw new StudentOptions.StudentError("cannot remove " + name + ".yaml: " + e.getMessage());
        }
        System.out.println("removed " + file + " (the image is kept)");
        Optional<java.time.Duration> timeout = Waiter.parse(wait);
        return timeout.isEmpty() ? 0 : Waiter.await(file.getParent(), name, null, null, timeout.get(), System.out);
    }
}
