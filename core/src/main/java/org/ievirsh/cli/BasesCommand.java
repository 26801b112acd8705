package org.ievirsh.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.ievirsh.api.Parsed;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.Quantities;
import org.ievirsh.api.v1.VirtualMachineFile;
import org.ievirsh.image.BaseImages;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * BasesCommand lists the admin's base images a VM file may name in
 * spec.baseImage: the ones that serve VMs, as the controller judges them.
 */
@Command(name = "bases", mixinStandardHelpOptions = true,
        header = "List the admin's base images: what spec.baseImage may name.",
        description = {"List the base images a VM may start from without uploading anything: NAME (what",
                "spec.baseImage names), SIZE (the disk it gives), FIRSTBOOT (cloud-init: your keys and the",
                "VM's name are set at the first boot) and the admin's DESCRIPTION."},
        footer = {"", "Example:", "  ie-virsh bases"})
final class BasesCommand implements Callable<Integer> {
    @Mixin
    StudentOptions options;

    @Override
    public Integer call() throws StudentOptions.StudentError {
        BaseImages catalog = catalog(options);
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"NAME", "SIZE", "FIRSTBOOT", "DESCRIPTION"});
        for (BaseImages.Base base : catalog.all().values()) {
            if (base.ready()) {
                rows.add(new String[] {base.name(), Quantities.readable(base.virtualSize()),
                        base.descriptor().firstBoot().text(), base.descriptor().description()});
            }
        }
        if (rows.size() == 1) {
            throw new StudentOptions.StudentError("there are no base images in " + catalog.root().orElseThrow()
                    + catalog.rootProblem().map(p -> " (" + p + ")").orElse("") + "; ask an admin");
        }
        Output.table(rows, System.out);
        return 0;
    }

    /** The admin's catalog of bases, read now; a message that says why when there is none. */
    static BaseImages catalog(StudentOptions options) throws StudentOptions.StudentError {
        Optional<ControllerConfig> config = options.adminConfig();
        if (config.isEmpty()) {
            throw new StudentOptions.StudentError("cannot read the admin's config " + options.config
                    + "; ask an admin which base images there are");
        }
        if (config.get().baseImages().root().isEmpty()) {
            throw new StudentOptions.StudentError("the admin keeps no base images here (baseImages.root is not set in "
                    + options.config + ")");
        }
        BaseImages catalog = new BaseImages(config.get().baseImages().root());
        catalog.refresh();
        return catalog;
    }

    /** The login name of the base VM file {@code file} names, if it names one and its admin says one. */
    static Optional<String> userOf(StudentOptions options, Path file) {
        try {
            Parsed<VirtualMachineFile> parsed = VirtualMachineFile.parse(file.getFileName().toString(),
                    java.nio.file.Files.readAllBytes(file));
            Optional<String> base = parsed.value().flatMap(f -> f.vm().baseImage());
            if (base.isEmpty()) {
                return Optional.empty();
            }
            return catalog(options).find(base.get()).filter(BaseImages.Base::ready)
                    .flatMap(b -> b.descriptor().user());
        } catch (java.io.IOException | StudentOptions.StudentError e) {
            return Optional.empty();
        }
    }
}
