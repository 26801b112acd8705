package org.ievirsh.reconcile;

import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.ievirsh.api.Parsed;
import org.ievirsh.api.Problem;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.Expiry;
import org.ievirsh.spec.CourseFit;
import org.ievirsh.spec.ExpiryFit;
import org.ievirsh.spec.SpecEntry;
import org.ievirsh.spec.TemplateFit;
import org.ievirsh.template.TemplateLibrary;
import org.ievirsh.users.Owner;

/**
 * DesiredPlanner decides what a student's file asks, given the admin's
 * templates, courses and dates: a valid file, or one that cannot be used
 * with the problems to show. It is pure: it reads nothing but its arguments.
 */
final class DesiredPlanner {

    private DesiredPlanner() {
    }

    /** What a VM with no file asks when the directory could not be read: to be left as it is. */
    static Desired unreadable(String name) {
        return new Desired.Invalid(List.of(Problem.ofFile(name + ".yaml",
                "the directory cannot be read now; the VM is left as it is")), Optional.empty(), "template");
    }

    /**
     * Desired state of a file: valid only if its template exists and it
     * stays within the template, its course is one of the student's (or it
     * exists already: {@code hasDomain}) and it ends no later than the
     * admin's date (the course's, for a course VM).
     */
    static Desired of(SpecEntry spec, ControllerConfig config, TemplateLibrary templates, Optional<Expiry> adminEnd,
                      Owner owner, boolean hasDomain, ZoneId zone) {
        if (!spec.isValid()) {
            return new Desired.Invalid(spec.problems(), spec.specHash(),
                    spec.errorReason().isEmpty() ? "template" : spec.errorReason());
        }
        var file = spec.file().get();
        Parsed<TemplateFit.Fitted> fitted = new TemplateFit(templates, config.defaultTemplate()).fit(file);
        if (!fitted.isOk()) {
            return new Desired.Invalid(fitted.problems(), Optional.of(file.specHash()), "template");
        }
        Map<String, ControllerConfig.Course> courses = config.courses();
        Optional<Problem> course = CourseFit.check(file, courses, owner.groups(), hasDomain);
        if (course.isPresent()) {
            return new Desired.Invalid(List.of(course.get()), Optional.of(file.specHash()), "course");
        }
        Optional<Expiry> end = CourseFit.countsIn(file.vm(), courses, owner.groups())
                .map(c -> Expiry.earliest(c.expires(), adminEnd, zone)).orElse(adminEnd);
        Optional<Problem> late = ExpiryFit.check(file, end, zone);
        if (late.isPresent()) {
            return new Desired.Invalid(List.of(late.get()), Optional.of(file.specHash()), "schema");
        }
        TemplateFit.Fitted f = fitted.orThrow();
        return new Desired.Valid(file.vm(), file.specHash(), f.template().name(), f.vcpus(), f.memoryBytes());
    }
}
