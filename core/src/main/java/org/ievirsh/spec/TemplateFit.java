package org.ievirsh.spec;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.ievirsh.api.Parsed;
import org.ievirsh.api.Problem;
import org.ievirsh.api.v1.Quantities;
import org.ievirsh.api.v1.VirtualMachine;
import org.ievirsh.api.v1.VirtualMachineFile;
import org.ievirsh.template.Template;
import org.ievirsh.template.TemplateLibrary;

/**
 * TemplateFit checks a valid VM file against the admin's templates: the
 * template exists, and the VM's vCPUs and memory stay within it (the
 * template's values are both default and maximum). Problems point at the
 * line of the field.
 */
public final class TemplateFit {
    /** MIN_MEMORY is the least memory a VM may ask for. */
    public static final long MIN_MEMORY = 64L << 20;

    private final TemplateLibrary templates;
    private final String defaultTemplate;

    public TemplateFit(TemplateLibrary templates, String defaultTemplate) {
        this.templates = templates;
        this.defaultTemplate = defaultTemplate;
    }

    /** Fitted is a VM within its template: the template and the effective vCPUs and memory. */
    public record Fitted(Template template, int vcpus, long memoryBytes) {
    }

    public Parsed<Fitted> fit(VirtualMachineFile file) {
        VirtualMachine vm = file.vm();
        String name = vm.template().orElse(defaultTemplate);
        Optional<Template> template = templates.get(name);
        if (template.isEmpty()) {
            return Parsed.failed(at(file, "/spec/template", vm.template().isPresent()
                    ? "there is no template " + name + "; choose one of: " + String.join(", ", templates.names())
                    : "the default template " + name + " does not exist; ask an admin"));
        }
        List<Problem> problems = new ArrayList<>();
        int vcpus = vm.vcpus().orElse(template.get().vcpus());
        long memory = vm.memoryBytes().orElse(template.get().memoryBytes());
        if (vcpus > template.get().vcpus()) {
            problems.add(at(file, "/spec/vcpus", vcpus + " exceeds the template maximum " + template.get().vcpus()));
        }
        if (memory > template.get().memoryBytes()) {
            problems.add(at(file, "/spec/memory", Quantities.format(memory) + " exceeds the template maximum "
                    + Quantities.format(template.get().memoryBytes())));
        } else if (memory < MIN_MEMORY) {
            problems.add(at(file, "/spec/memory", Quantities.format(memory) + " is below the minimum "
                    + Quantities.format(MIN_MEMORY)));
        }
        return problems.isEmpty() ? Parsed.ok(new Fitted(template.get(), vcpus, memory)) : Parsed.failed(problems);
    }

    private static Problem at(VirtualMachineFile file, String pointer, String message) {
        return file.at(pointer, message);
    }
}
