package org.ievirsh.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.ievirsh.api.Parsed;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.VirtualMachineFile;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * RunStrategyCommand is {@code start} and {@code destroy}: they set one line
 * of the VM's file, {@code runStrategy}, and leave the rest of it as written.
 */
abstract class RunStrategyCommand implements Callable<Integer> {
    @Mixin
    StudentOptions options;

    @Parameters(paramLabel = "NAME", description = "The VM.")
    String name;

    @Option(names = "--wait", arity = "0..1", fallbackValue = "120", paramLabel = "SECONDS",
            description = "Wait until the change took effect; default 120 seconds.")
    Integer wait;

    abstract String strategy();

    abstract Phase expected();

    @Override
    public Integer call() throws IOException, InterruptedException, StudentOptions.StudentError {
        Path file = StudentOptions.vmFile(options.existingDirectory(), name);
        String text = StudentOptions.ownFile(file);
        String fileName = file.getFileName().toString();
        Parsed<String> edited = RunStrategyEditor.set(fileName, text, strategy());
        if (!edited.isOk()) {
            edited.problems().forEach(p -> System.err.println(p));
            return 1;
        }
        Parsed<VirtualMachineFile> check = VirtualMachineFile.parse(fileName,
                edited.orThrow().getBytes(StandardCharsets.UTF_8));
        if (!check.isOk()) {
            System.err.println("ie-virsh: " + fileName + " has problems; fix them first:");
            check.problems().forEach(p -> System.err.println(p));
            return 1;
        }
        if (!edited.orThrow().equals(text)) {
            try {
                FileWriter.replace(file, edited.orThrow());
            } catch (IOException e) {
                System.err.println("ie-virsh: cannot write " + file + ": " + e.getMessage());
                return 1;
            }
        }
        System.out.println(name + ": runStrategy: " + strategy());
        Optional<java.time.Duration> timeout = Waiter.parse(wait);
        if (timeout.isEmpty()) {
            return 0;
        }
        return Waiter.await(file.getParent(), name, check.orThrow().specHash(), expected(), timeout.get(), System.out);
    }
}
