package org.ievirsh.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.Quantities;
import org.ievirsh.template.Template;
import org.ievirsh.template.TemplateLibrary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** TemplatesCommand lists the admin's templates a VM file may name, with their largest VM. */
@Command(name = "templates", mixinStandardHelpOptions = true,
        header = "List the admin's templates and the largest VM of each.",
        description = {"List the admin's templates: what spec.template may name, and the most vCPUs and memory a VM",
                "of each may have (also its default)."},
        footer = {"", "Example:", "  ie-virsh templates"})
final class TemplatesCommand implements Callable<Integer> {
    @Mixin
    StudentOptions options;

    @Override
    public Integer call() throws StudentOptions.StudentError {
        Optional<ControllerConfig> config = options.adminConfig();
        if (config.isEmpty()) {
            throw new StudentOptions.StudentError("cannot read the admin's config " + options.config
                    + "; ask an admin which templates there are");
        }
        TemplateLibrary library = new TemplateLibrary(config.get().templates());
        library.reload();
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"NAME", "VCPUS", "MEMORY", "DISK", "NICS", ""});
        for (String name : library.names()) {
            Template t = library.get(name).orElseThrow();
            rows.add(new String[] {name, Integer.toString(t.vcpus()), Quantities.format(t.memoryBytes()),
                    t.diskFormat(), Integer.toString(t.nics()),
                    name.equals(config.get().defaultTemplate()) ? "(default)" : ""});
        }
        if (rows.size() == 1) {
            throw new StudentOptions.StudentError("there are no usable templates in " + config.get().templates()
                    + "; ask an admin");
        }
        Output.table(rows, System.out);
        return 0;
    }
}
