package org.ievirsh.spec;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.ievirsh.api.Problem;
import org.ievirsh.api.v1.ControllerConfig.Course;
import org.ievirsh.api.v1.VirtualMachine;
import org.ievirsh.api.v1.VirtualMachineFile;

/**
 * CourseFit checks a valid VM file's {@code spec.course} against the
 * admin's courses and the student's groups (the README's "Courses"): only a
 * student of the course may write it. A VM that exists already keeps its
 * file valid when its student left the group or the course left the config:
 * it is their VM, counted against their own quota from then on. The
 * controller and {@code ie-virsh validate} give the same message.
 */
public final class CourseFit {
    private CourseFit() {
    }

    /** The course {@code vm} counts against: it names a course of which the student (in {@code groups}) is one. */
    public static Optional<Course> countsIn(VirtualMachine vm, Map<String, Course> courses, List<String> groups) {
        return vm.course().map(courses::get).filter(c -> groups.contains(c.students()));
    }

    /**
     * The problem of {@code file}'s {@code spec.course} for a student in
     * {@code groups}; none when the VM exists already ({@code hasDomain}).
     */
    public static Optional<Problem> check(VirtualMachineFile file, Map<String, Course> courses, List<String> groups,
                                          boolean hasDomain) {
        Optional<String> name = file.vm().course();
        if (name.isEmpty() || hasDomain || countsIn(file.vm(), courses, groups).isPresent()) {
            return Optional.empty();
        }
        Course course = courses.get(name.get());
        if (course == null) {
            return Optional.of(file.at("/spec/course", "there is no course " + name.get() + " (ie-virsh courses lists"
                    + " yours); remove spec.course"));
        }
        return Optional.of(file.at("/spec/course", "you are not a student of " + name.get() + " (group "
                + course.students() + "); remove spec.course, or ask the course's instructors to add you"));
    }
}
