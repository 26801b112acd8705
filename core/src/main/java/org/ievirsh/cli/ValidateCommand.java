package org.ievirsh.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.ievirsh.api.Parsed;
import org.ievirsh.api.Problem;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.VirtualMachineFile;
import org.ievirsh.api.yaml.SafeYaml;
import org.ievirsh.api.yaml.YamlDocument;
import org.ievirsh.controller.ConfigChecks;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * ValidateCommand checks VM files (or a controller config) offline, with the
 * same messages the controller writes to the status: one line per problem,
 * exit 1 if there is any.
 */
@Command(name = "validate", mixinStandardHelpOptions = true,
        header = "Check VM files, or the admin's config, offline.",
        description = {"Check VM files offline as the controller would: the schema, the admin's templates and",
                "their limits, and spec.expires against the admin's date for you (what could not be checked,",
                "without a readable config, is said). An admin's config is checked as the controller checks",
                "it, with warnings for what it would run badly with."},
        footer = {"", "Example:", "  ie-virsh validate ~/ie-virsh/web.yaml ~/ie-virsh/db.yaml",
                "", "Exit codes: 0 every file is valid, 1 a file has problems."})
final class ValidateCommand implements Callable<Integer> {

    @Parameters(arity = "1..*", paramLabel = "FILE",
            description = "Files to check: VM files, or the admin's config (told apart by what they hold).")
    List<Path> files;

    @Option(names = "--config", description = "The admin's config, for template limits and dates (default:"
            + " $IE_VIRSH_CONFIG, else /etc/ie-virsh/controller.yaml).",
            defaultValue = "${env:IE_VIRSH_CONFIG:-/etc/ie-virsh/controller.yaml}")
    Path config;

    @Override
    public Integer call() {
        int bad = 0;
        SpecChecks checks = SpecChecks.fromConfig(config);
        boolean vmFiles = false;
        for (Path file : files) {
            vmFiles |= !isConfigFile(file);
            List<Problem> problems = check(file, checks);
            if (problems.isEmpty()) {
                System.out.println(file + ": valid");
            } else {
                bad++;
                problems.forEach(p -> System.out.println(p));
            }
        }
        if (vmFiles) {
            checks.unchecked().forEach(u -> System.out.println("warning: " + u));
        }
        return bad == 0 ? 0 : 1;
    }

    private static boolean isConfigFile(Path file) {
        try {
            return Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) && Files.size(file) <= SafeYaml.MAX_BYTES
                    && isConfig(file.getFileName().toString(), Files.readAllBytes(file));
        } catch (IOException e) {
            return false;
        }
    }

    private static List<Problem> check(Path file, SpecChecks checks) {
        String name = file.getFileName().toString();
        byte[] bytes;
        try {
            if (Files.isSymbolicLink(file)) {
                return List.of(Problem.ofFile(name, "is a symbolic link; the controller ignores links"));
            }
            if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                return List.of(Problem.ofFile(file.toString(), "no such file"));
            }
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                return List.of(Problem.ofFile(name, "is not a regular file"));
            }
            if (Files.size(file) > SafeYaml.MAX_BYTES) {
                return List.of(Problem.ofFile(name, "has " + Files.size(file) + " bytes; files over "
                        + SafeYaml.MAX_BYTES + " bytes are ignored"));
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            return List.of(Problem.ofFile(name, "cannot read it: " + e.getMessage()));
        }
        if (isConfig(name, bytes)) {
            Parsed<ControllerConfig> parsed = ControllerConfig.parse(name, bytes);
            if (!parsed.isOk()) {
                return parsed.problems();
            }
            ConfigChecks.Checked checked = ConfigChecks.check(name, parsed.orThrow());
            checked.warnings().forEach(w -> System.out.println("warning: " + w));
            org.ievirsh.controller.BladeProbe.warnings(name, parsed.orThrow())
                    .forEach(w -> System.out.println("warning: " + w));
            return checked.errors();
        }
        Parsed<VirtualMachineFile> parsed = VirtualMachineFile.parse(name, bytes);
        if (!parsed.isOk()) {
            return parsed.problems();
        }
        return checks.check(parsed.orThrow());
    }

    /**
     * True when the file is an admin's config rather than a VM file, told by
     * what it holds: no {@code kind}, and a key only the config has.
     */
    static boolean isConfig(String name, byte[] bytes) {
        Parsed<YamlDocument> yaml = SafeYaml.parse(name, bytes);
        if (!yaml.isOk() || !yaml.orThrow().root().isObject()) {
            return false;
        }
        JsonNode root = yaml.orThrow().root();
        if (root.has("kind") || root.has("apiVersion") || root.has("spec")) {
            return false;
        }
        for (String key : CONFIG_KEYS) {
            if (root.has(key)) {
                return true;
            }
        }
        return false;
    }

    private static final List<String> CONFIG_KEYS = List.of("blades", "users", "images", "templates",
            "defaultTemplate", "quota", "http", "resync", "stopGracePeriod", "deletionGuard", "workers");
}
