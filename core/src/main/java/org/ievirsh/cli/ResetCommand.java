package org.ievirsh.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.ievirsh.api.Parsed;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.Quantities;
import org.ievirsh.api.v1.RunStrategy;
import org.ievirsh.api.v1.VirtualMachineFile;
import org.ievirsh.posix.Nss;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * ResetCommand gives a VM made from a base image a fresh disk: it halts the
 * VM, waits until it no longer runs, moves its disk aside (never removes
 * it) and gives the file back its runStrategy; the controller then makes a
 * new disk from the base. Everything is done as the student who runs it,
 * with their rights alone.
 */
@Command(name = "reset", mixinStandardHelpOptions = true,
        header = "Give a VM made from a base image a fresh disk; the old one is kept aside.",
        description = {"For a VM whose file says spec.baseImage: halt it, wait until it stopped, move its disk aside",
                "to IMAGE.<yyyymmddThhmmssZ>.old (delete that file yourself once you no longer need it) and set",
                "runStrategy back as it was: the controller makes a fresh disk from the base and starts the VM."},
        footer = {"", "Example:", "  ie-virsh reset web",
                "", "Exit codes: 0 done, 1 refused or failed, 3 the VM did not stop in time (nothing was moved)."})
final class ResetCommand implements Callable<Integer> {
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");
    /** STOP_TIMEOUT bounds the wait for the VM to stop: its grace period, and then some. */
    private static final Duration STOP_TIMEOUT = Duration.ofMinutes(5);

    @Mixin
    StudentOptions options;

    @Parameters(paramLabel = "NAME", description = "The VM.")
    String name;

    @Option(names = "--yes", description = "Do not ask first.")
    boolean yes;

    @Override
    public Integer call() throws IOException, InterruptedException, StudentOptions.StudentError {
        if (Nss.effectiveUid() == 0) {
            throw new StudentOptions.StudentError("run reset as the student whose VM it is, not as root");
        }
        Path dir = options.existingDirectory();
        Path file = StudentOptions.vmFile(dir, name);
        String original = StudentOptions.ownFile(file);
        String fileName = file.getFileName().toString();
        Parsed<VirtualMachineFile> parsed = VirtualMachineFile.parse(fileName, original.getBytes(StandardCharsets.UTF_8));
        if (!parsed.isOk()) {
            System.err.println("ie-virsh: " + fileName + " has problems; fix them first:");
            parsed.problems().forEach(p -> System.err.println(p));
            return 1;
        }
        VirtualMachineFile vm = parsed.orThrow();
        if (vm.vm().baseImage().isEmpty()) {
            throw new StudentOptions.StudentError(name + " is not made from a base image (its file has no"
                    + " spec.baseImage): reset makes a fresh disk from one, and there is none to make it from");
        }
        Optional<ControllerConfig> config = options.adminConfig();
        if (config.isEmpty()) {
            throw new StudentOptions.StudentError("cannot read the admin's config " + options.config
                    + "; it says where your disks are");
        }
        Path image = config.get().images().root().resolve(StudentOptions.self().getUsername()).resolve(vm.vm().image());
        if (!Files.exists(image, LinkOption.NOFOLLOW_LINKS)) {
            throw new StudentOptions.StudentError("there is no " + image + " to reset: the controller makes it from "
                    + vm.vm().baseImage().get() + " (ie-virsh status " + name + " says what it does)");
        }
        StudentOptions.ownEntry(image);
        if (!yes && System.console() != null && !confirmed(image)) {
            System.out.println("nothing changed");
            return 1;
        }
        RunStrategy before = vm.vm().runStrategy();
        String halted = original;
        if (before != RunStrategy.Halted) {
            Parsed<String> edited = RunStrategyEditor.set(fileName, original, RunStrategy.Halted.name());
            if (!edited.isOk()) {
                edited.problems().forEach(p -> System.err.println(p));
                return 1;
            }
            halted = edited.orThrow();
            FileWriter.replace(file, halted);
            System.out.println(name + ": runStrategy: Halted");
        }
        String hash = VirtualMachineFile.parse(fileName, halted.getBytes(StandardCharsets.UTF_8)).orThrow().specHash();
        int stopped = Waiter.awaitAtRest(dir, name, hash, STOP_TIMEOUT, System.out);
        if (stopped != 0) {
            restore(file, original, halted, before);
            System.out.println(name + ": nothing was moved; runStrategy is " + before + " again");
            return stopped;
        }
        long size = Files.size(image);
        Path aside = image.resolveSibling(image.getFileName() + "." + STAMP.format(ZonedDateTime.now(ZoneOffset.UTC))
                + ".old");
        try {
            Files.move(image, aside);  // rename(2): no copy, and it fails rather than replace a file there
        } finally {
            restore(file, original, halted, before);
        }
        System.out.println("moved " + image.getFileName() + " aside to " + aside + " (" + Quantities.readable(size)
                + "; delete it once you no longer need it)");
        System.out.println(name + ": runStrategy: " + before + "; the controller makes a fresh disk from "
                + vm.vm().baseImage().get() + (before == RunStrategy.Halted ? "" : " and starts it"));
        return 0;
    }

    private boolean confirmed(Path image) {
        String answer = System.console().readLine("Move %s aside and give %s a fresh disk from %s? [y/N] ",
                image.getFileName(), name, "its base image");
        return answer != null && (answer.strip().equalsIgnoreCase("y") || answer.strip().equalsIgnoreCase("yes"));
    }

    /** Gives the file back its runStrategy: the original text, unless the student changed it meanwhile. */
    private static void restore(Path file, String original, String halted, RunStrategy before)
            throws IOException, StudentOptions.StudentError {
        if (original.equals(halted)) {
            return;
        }
        String now = StudentOptions.ownFile(file);
        Parsed<String> back = now.equals(halted) ? Parsed.ok(original)
                : RunStrategyEditor.set(file.getFileName().toString(), now, before.name());
        if (!back.isOk()) {
            throw new StudentOptions.StudentError(file + " changed meanwhile and its runStrategy cannot be set back to "
                    + before + ": " + back.problems().get(0) + "; set it by hand");
        }
        FileWriter.replace(file, back.orThrow());
    }
}
