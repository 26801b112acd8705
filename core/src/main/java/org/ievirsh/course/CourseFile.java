package org.ievirsh.course;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.ievirsh.api.v1.ControllerConfig.Course;
import org.ievirsh.api.v1.ControllerConfig.CourseVm;

/**
 * CourseFile is the text of the VM file a course gives each of its
 * students, {@code <course>-<vm>.yaml}: a first comment line naming the
 * course, then {@code spec.course} and the admin's fields. Every value but
 * the description is a name, a size, a number or an enum word (the config's
 * schema says so); the description is written double-quoted.
 */
public final class CourseFile {
    private CourseFile() {
    }

    /** The file name of {@code vm} of {@code course}. */
    public static String name(Course course, CourseVm vm) {
        return course.vmName(vm.name()) + ".yaml";
    }

    /** The first line, which tells a file the controller wrote for {@code course}. */
    public static String firstLine(Course course) {
        return "# Course " + course.name() + ": written once by ie-virsh; it is your file now.";
    }

    /** The whole text. */
    public static byte[] text(Course course, CourseVm vm) {
        StringBuilder y = new StringBuilder(512);
        y.append(firstLine(course)).append('\n');
        y.append("# You may change runStrategy, vcpus and memory (within the course's quota and the template).\n");
        y.append("# Removing this file removes the VM for good: the course does not write it again.\n");
        y.append("apiVersion: ie-virsh/v1\nkind: VirtualMachine\nspec:\n");
        y.append("  course: ").append(course.name()).append('\n');
        for (Map.Entry<String, String> field : vm.spec().entrySet()) {
            y.append("  ").append(field.getKey()).append(": ");
            if (field.getKey().equals("description")) {
                y.append(quoted(field.getValue()));
            } else {
                y.append(field.getValue());
            }
            y.append('\n');
        }
        return y.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** A YAML double-quoted scalar (the schema keeps control characters out of a description). */
    private static String quoted(String text) {
        return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
