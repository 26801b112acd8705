package org.ievirsh.cli;

import java.nio.file.Path;
import java.util.List;
import org.ievirsh.api.Parsed;
import org.ievirsh.api.Problem;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.VirtualMachineFile;
import org.ievirsh.spec.TemplateFit;
import org.ievirsh.template.TemplateLibrary;

/**
 * SpecChecks are the checks of a VM file beyond the schema that the CLI can
 * make offline: its template and limits, when the admin's config and
 * templates can be read.
 */
final class SpecChecks {
    private final TemplateFit fit;

    private SpecChecks(TemplateFit fit) {
        this.fit = fit;
    }

    /** Checks from the config at {@code path}; without a readable config, only the schema counts. */
    static SpecChecks fromConfig(Path path) {
        Parsed<ControllerConfig> config = ConfigFiles.read(path);
        if (!config.isOk()) {
            return new SpecChecks(null);
        }
        TemplateLibrary templates = new TemplateLibrary(config.orThrow().templates());
        templates.reload();
        if (templates.names().isEmpty()) {
            return new SpecChecks(null);
        }
        return new SpecChecks(new TemplateFit(templates, config.orThrow().defaultTemplate()));
    }

    List<Problem> check(VirtualMachineFile file) {
        return fit == null ? List.of() : fit.fit(file).problems();
    }
}
