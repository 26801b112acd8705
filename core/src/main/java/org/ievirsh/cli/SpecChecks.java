package org.ievirsh.cli;

import java.nio.file.Path;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.ievirsh.api.Parsed;
import org.ievirsh.api.Problem;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.Expiry;
import org.ievirsh.api.v1.VirtualMachineFile;
import org.ievirsh.controller.ConfigFiles;
import org.ievirsh.posix.Nss;
import org.ievirsh.image.BaseImages;
import org.ievirsh.spec.BaseFit;
import org.ievirsh.spec.CourseFit;
import org.ievirsh.spec.ExpiryFit;
import org.ievirsh.spec.TemplateFit;
import org.ievirsh.template.TemplateLibrary;

/**
 * SpecChecks are the checks of a VM file beyond the schema that the CLI can
 * make offline, as the controller makes them: its template and limits, its
 * base image and disk size, its {@code spec.course} (a course of the
 * caller's) and its {@code spec.expires} against the admin's date for the
 * caller (their groups from NSS; the course's for a course VM). What it could not check (no readable config, no
 * templates) it says, in {@link #unchecked}.
 */
final class SpecChecks {
    private final TemplateFit fit;
    private final Optional<Expiry> adminEnd;
    private final Optional<BaseImages> bases;
    private final List<String> unchecked;
    private final java.util.Map<String, ControllerConfig.Course> courses;
    /** The caller's groups (null: unknown, spec.course is not checked). */
    private final List<String> groups;

    private SpecChecks(TemplateFit fit, Optional<Expiry> adminEnd, Optional<BaseImages> bases, List<String> unchecked,
                       java.util.Map<String, ControllerConfig.Course> courses, List<String> groups) {
        this.courses = courses;
        this.groups = groups;
        this.fit = fit;
        this.adminEnd = adminEnd;
        this.bases = bases;
        this.unchecked = List.copyOf(unchecked);
    }

    /** Checks from the config at {@code path}, for the account running the command. */
    static SpecChecks fromConfig(Path path) {
        Parsed<ControllerConfig> config = ConfigFiles.read(path);
        if (!config.isOk()) {
            String why = config.problems().isEmpty() ? "it cannot be read" : config.problems().get(0).toString();
            return new SpecChecks(null, Optional.empty(), Optional.empty(), List.of("the admin's config " + path
                    + " cannot be used (" + why + "): only the schema was checked, not the template limits, the base"
                    + " images, the courses nor the semester's dates (--config names another)"), java.util.Map.of(),
                    null);
        }
        List<String> unchecked = new ArrayList<>();
        TemplateLibrary templates = new TemplateLibrary(config.orThrow().templates());
        templates.reload();
        TemplateFit fit = null;
        if (templates.names().isEmpty()) {
            unchecked.add("no template could be read in " + config.orThrow().templates() + ": the template and its"
                    + " limits were not checked");
        } else {
            fit = new TemplateFit(templates, config.orThrow().defaultTemplate());
        }
        Optional<Expiry> adminEnd = Optional.empty();
        List<String> groups = null;
        var self = Nss.self();
        if (self.isEmpty()) {
            unchecked.add("your account cannot be resolved now: spec.expires and spec.course were not checked");
        } else {
            groups = Nss.groupsOf(self.get());
            adminEnd = config.orThrow().lifecycle().expiryOf(self.get().name(), groups, ZoneId.systemDefault());
        }
        Optional<BaseImages> bases = Optional.empty();
        if (config.orThrow().baseImages().root().isPresent()) {
            BaseImages catalog = new BaseImages(config.orThrow().baseImages().root());
            catalog.refresh();
            bases = Optional.of(catalog);
        }
        return new SpecChecks(fit, adminEnd, bases, unchecked, config.orThrow().courses(), groups);
    }

    List<Problem> check(VirtualMachineFile file) {
        List<Problem> problems = new ArrayList<>();
        if (fit != null) {
            problems.addAll(fit.fit(file).problems());
        }
        Optional<Expiry> end = adminEnd;
        if (groups != null) {
            // A new VM's view: a VM that exists already keeps a course its student left (the controller knows).
            CourseFit.check(file, courses, groups, false).ifPresent(problems::add);
            end = CourseFit.countsIn(file.vm(), courses, groups)
                    .map(c -> Expiry.earliest(c.expires(), adminEnd, ZoneId.systemDefault())).orElse(adminEnd);
        }
        ExpiryFit.check(file, end, ZoneId.systemDefault()).ifPresent(problems::add);
        if (file.vm().baseImage().isPresent()) {
            problems.addAll(bases.map(catalog -> BaseFit.check(file, catalog).stream().toList()).orElse(List.of(
                    file.at("/spec/baseImage", "the admin keeps no base images here (the config sets no"
                            + " baseImages.root)"))));
        }
        return problems;
    }

    /** What could not be checked, one line each (empty: everything the controller checks offline was). */
    List<String> unchecked() {
        return unchecked;
    }
}
