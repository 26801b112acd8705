package org.ievirsh.course;

import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.ievirsh.api.v1.ControllerConfig.Course;
import org.ievirsh.api.v1.ControllerConfig.CourseVm;

/**
 * CoursePlanner decides, for one student of a course, where their VM files
 * go and which are still to be written. Pure: the provisioner gathers what
 * it needs (the student's home from NSS, what {@code .status/courses}
 * records) and carries the answer out.
 */
public final class CoursePlanner {
    private CoursePlanner() {
    }

    /**
     * The student's VM directory: their home followed by the part of the
     * admin's {@code users.directories} after its {@code *} (for
     * {@code /home/*}{@code /ie-virsh} and the home {@code /home/alice},
     * {@code /home/alice/ie-virsh}), when that path matches the pattern;
     * empty otherwise (the student has no directory the controller would
     * read: {@code NoDirectory}).
     */
    public static Optional<Path> directoryOf(String glob, String home) {
        int star = glob.indexOf('*');
        if (star < 0 || home == null || !home.startsWith("/") || home.contains("\n")) {
            return Optional.empty();
        }
        home = stripTrailingSlash(home);
        int slash = glob.indexOf('/', star);
        String rest = slash < 0 ? "" : glob.substring(slash);
        Path dir;
        try {
            dir = Path.of(home + rest).normalize();
        } catch (java.nio.file.InvalidPathException e) {
            return Optional.empty();
        }
        if (!dir.toString().equals(stripTrailingSlash(home + rest)) || dir.getNameCount() == 0) {
            return Optional.empty();  // "." or ".." in the home: not followed
        }
        return FileSystems.getDefault().getPathMatcher("glob:" + glob).matches(dir) ? Optional.of(dir)
                : Optional.empty();
    }

    private static String stripTrailingSlash(String path) {
        String p = path;
        while (p.length() > 1 && p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        return p;
    }

    /** The VMs of {@code course} not written for this student yet ({@code recorded}: the VM names written). */
    public static List<CourseVm> toWrite(Course course, Set<String> recorded) {
        List<CourseVm> left = new ArrayList<>();
        for (CourseVm vm : course.vms().values()) {
            if (!recorded.contains(course.vmName(vm.name()))) {
                left.add(vm);
            }
        }
        return left;
    }

    /**
     * The relative path of the VM directory below the home, as the
     * components a script makes one by one ({@code ie-virsh} for the
     * README's pattern).
     */
    public static List<String> belowHome(Path home, Path dir) {
        List<String> parts = new ArrayList<>();
        Path.of(home.toString()).relativize(dir).forEach(p -> parts.add(p.toString()));
        parts.removeIf(String::isEmpty);
        return parts;
    }
}
