package org.ievirsh.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.posix.Nss;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * CoursesCommand lists the courses the caller takes or teaches, from the
 * admin's config and the caller's groups as NSS gives them now.
 */
@Command(name = "courses", mixinStandardHelpOptions = true,
        header = "List the courses you take or teach.",
        description = {"COURSE, ROLE (student or instructor), EXPIRES (when the course's VMs end) and VMS (the",
                "files <course>-<vm>.yaml the course gives each student)."},
        footer = {"", "Example:", "  ie-virsh courses"})
final class CoursesCommand implements Callable<Integer> {
    @Mixin
    StudentOptions options;

    @Override
    public Integer call() throws StudentOptions.StudentError {
        Optional<ControllerConfig> config = options.adminConfig();
        if (config.isEmpty()) {
            throw new StudentOptions.StudentError("cannot read the admin's config " + options.config
                    + "; ask an admin which courses there are");
        }
        List<String> groups = Nss.self().map(Nss::groupsOf).orElse(List.of());
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"COURSE", "ROLE", "EXPIRES", "VMS"});
        for (ControllerConfig.Course course : config.get().courses().values()) {
            String vms = String.join(",", course.vms().keySet().stream().map(course::vmName).toList());
            String expires = course.expires().map(Object::toString).orElse("never");
            if (course.instructors().filter(groups::contains).isPresent()) {
                rows.add(new String[] {course.name(), "instructor", expires, vms});
            }
            if (groups.contains(course.students())) {
                rows.add(new String[] {course.name(), "student", expires, vms});
            }
        }
        if (rows.size() == 1) {
            System.out.println("You take or teach no course here.");
            return 0;
        }
        Output.table(rows, System.out);
        return 0;
    }
}
