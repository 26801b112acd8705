package org.ievirsh.course;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.ControllerConfig.Course;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.console.ConsoleVms;
import org.ievirsh.status.StatusBook;

/**
 * Classroom answers what an instructor may see and reach (the README's
 * "Courses"): the VMs of a course they teach, every student's, and the
 * consoles of those VMs. Whether the caller teaches is asked of NSS at
 * every request (an instructor removed from the group loses access at
 * once); a VM is a course VM while its status says so, that is while its
 * student is in the course's group: never a student's own VM.
 */
public final class Classroom {
    /** COLUMNS of a {@code LIST} line, tab-separated. */
    public static final List<String> COLUMNS = List.of("USER", "VM", "PHASE", "BLADE", "IP", "EXPIRES");

    private final Supplier<ControllerConfig> config;
    private final StatusBook book;
    private final CourseMembers members;
    private final CourseProvisioner provisioner;

    public Classroom(Supplier<ControllerConfig> config, StatusBook book, CourseMembers members,
                     CourseProvisioner provisioner) {
        this.config = config;
        this.book = book;
        this.members = members;
        this.provisioner = provisioner;
    }

    /** True when {@code user} is in the instructors' group of {@code course} now. */
    public boolean teaches(String user, Course course) {
        return course.instructors().isPresent() && members.isMember(user, -1, course.instructors().get());
    }

    /** The course through which {@code caller} may reach {@code student}'s {@code vm}, if any. */
    public Optional<String> teaching(String caller, String student, String vm) {
        VmStatus status = book.ofUser(student).get(vm);
        if (status == null || status.course() == null) {
            return Optional.empty();
        }
        Course course = config.get().courses().get(status.course());
        return course != null && teaches(caller, course) ? Optional.of(course.name()) : Optional.empty();
    }

    /**
     * The lines of {@code LIST course} for {@code caller}: one per course VM
     * of each student (its status, or {@code NoDirectory} with the reason,
     * or {@code Removed} when the student removed the file), sorted.
     */
    public ConsoleVms.Listing list(String caller, String name) {
        Course course = config.get().courses().get(name);
        if (course == null || !teaches(caller, course)) {
            // The same words whether the course exists or not: a caller learns nothing of courses not theirs.
            return ConsoleVms.Listing.refused("you are no instructor of a course " + name
                    + " (ie-virsh courses lists yours)");
        }
        Map<String, String> lines = new TreeMap<>();
        book.users().forEach((user, vms) -> vms.values().forEach(status -> {
            if (name.equals(status.course())) {
                lines.put(user + "\t" + status.name(), line(user, status));
            }
        }));
        provisioner.states(name).forEach((user, state) -> {
            for (ControllerConfig.CourseVm vm : course.vms().values()) {
                String key = user + "\t" + course.vmName(vm.name());
                if (!lines.containsKey(key)) {
                    lines.put(key, String.join("\t", user, course.vmName(vm.name()),
                            state.provisioned() ? "Removed" : "NoDirectory", "", "", ""));
                }
            }
        });
        return ConsoleVms.Listing.of(new ArrayList<>(lines.values()));
    }

    private static String line(String user, VmStatus s) {
        return String.join("\t", user, s.name(), s.phase() == null ? "" : s.phase().name(),
                s.blade() == null ? "" : s.blade(), s.ip() == null ? "" : s.ip(),
                s.expires() == null ? "" : s.expires());
    }
}
