package org.ievirsh.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.ievirsh.api.Parsed;
import org.ievirsh.api.Problem;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.VirtualMachine;
import org.ievirsh.api.v1.VirtualMachineFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** DefineCommand writes a new VM file; it never overwrites one. */
@Command(name = "define", mixinStandardHelpOptions = true,
        header = "Write a new VM file NAME.yaml (never overwrites one).",
        description = {"Write NAME.yaml in your VM directory: a VM on a template, with an image from your image",
                "directory (default NAME.qcow2). It refuses to overwrite an existing file."},
        footer = {"", "Examples:", "  ie-virsh define web --template standard --image web.qcow2 --wait",
                "  ie-virsh define lab --halted",
                "", "Exit codes: 0 written (and, with --wait, running or stopped as asked), 1 refused or failed,",
                "3 --wait timed out."})
final class DefineCommand implements Callable<Integer> {
    static final String SCHEMA_LINE =
            "# yaml-language-server: $schema=/usr/share/ie-virsh/schemas/virtualmachine-v1.schema.json\n";

    @Mixin
    StudentOptions options;

    @Parameters(paramLabel = "NAME", description = "The VM's name: lower-case letters, digits and '-'.")
    String name;

    @Option(names = "--template", paramLabel = "T", description = "An admin template (default: the admin's default).")
    String template;

    @Option(names = "--image", paramLabel = "FILE", description = "The image file name (default: NAME.qcow2).")
    String image;

    @Option(names = "--halted", description = "Define it stopped (runStrategy: Halted).")
    boolean halted;

    @Option(names = "--wait", arity = "0..1", fallbackValue = "120", paramLabel = "SECONDS",
            description = "Wait until the VM runs (or is stopped, with --halted); default 120 seconds.")
    Integer wait;

    @Override
    public Integer call() throws IOException, InterruptedException, StudentOptions.StudentError {
        if (!VirtualMachine.isValidName(name)) {
            System.err.println("ie-virsh: " + name + " is not valid: a VM name uses lower-case letters, digits and"
                    + " '-', 1 to 32 characters, starting and ending with a letter or digit (nothing was written)");
            return 1;
        }
        Path dir = options.existingDirectory();
        String text = SCHEMA_LINE + "apiVersion: ie-virsh/v1\nkind: VirtualMachine\nspec:\n"
                + (template != null ? "  template: " + yamlText(template) + "\n" : "")
                + "  image: " + yamlText(image != null ? image : name + ".qcow2") + "\n"
                + "  runStrategy: " + (halted ? "Halted" : "Always") + "\n";
        String fileName = name + ".yaml";
        Parsed<VirtualMachineFile> parsed = VirtualMachineFile.parse(fileName, text.getBytes(StandardCharsets.UTF_8));
        List<Problem> problems = parsed.isOk() ? SpecChecks.fromConfig(options.config).check(parsed.orThrow())
                : parsed.problems();
        if (!VirtualMachine.isValidName(name) || !problems.isEmpty()) {
            (problems.isEmpty() ? parsed.problems() : problems).forEach(p -> System.err.println(p));
            return 1;
        }
        Path file = dir.resolve(fileName);
        if (Files.exists(dir.resolve(name + ".yml"))) {
            System.err.println("ie-virsh: " + name + ".yml already exists; edit it, or ie-virsh undefine " + name);
            return 1;
        }
        try {
            FileWriter.create(file, text);
        } catch (FileAlreadyExistsException e) {
            System.err.println("ie-virsh: " + file + " already exists; edit it, or ie-virsh undefine " + name + " first");
            return 1;
        } catch (IOException e) {
            System.err.println("ie-virsh: cannot write " + file + ": " + e.getMessage());
            return 1;
        }
        System.out.println("wrote " + file);
        imageHint(name, image != null ? image : name + ".qcow2");
        Optional<java.time.Duration> timeout = Waiter.parse(wait);
        if (timeout.isEmpty()) {
            return 0;
        }
        return Waiter.await(dir, name, VirtualMachineFile.hash(text.getBytes(StandardCharsets.UTF_8)),
                halted ? Phase.Stopped : Phase.Running, timeout.get(), System.out);
    }

    private void imageHint(String vm, String file) {
        Optional<ControllerConfig> config = options.adminConfig();
        if (config.isEmpty()) {
            return;
        }
        Path imageFile = config.get().images().root().resolve(StudentOptions.self().getUsername()).resolve(file);
        if (!Files.exists(imageFile)) {
            System.out.println("note: there is no " + imageFile + " yet; upload it (or ie-virsh import-box) before "
                    + vm + " can start");
        }
    }

    /** A value as YAML text, quoted when it could be read as anything else. */
    private static String yamlText(String value) {
        return value.matches("[A-Za-z0-9][A-Za-z0-9._-]*") && !value.matches("[0-9._-]+") ? value
                : "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
