package org.ievirsh.course;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.status.StatusBook;

/**
 * CourseMeters publishes {@code ievirsh_course_vms{course,phase}} (the
 * course VMs of students in the course's group, by phase) and
 * {@code ievirsh_course_students{course}} (the group's members at the last
 * round) for the courses of the config in force. The statuses are counted
 * once per scrape, not once per series.
 */
public final class CourseMeters {
    private final MeterRegistry registry;
    private final StatusBook book;
    private final CourseProvisioner provisioner;
    private final Map<String, List<Meter>> byCourse = new HashMap<>();
    private volatile Map<String, Map<Phase, Integer>> counts = Map.of();
    private volatile long countedAt;

    public CourseMeters(MeterRegistry registry, StatusBook book, CourseProvisioner provisioner) {
        this.registry = registry;
        this.book = book;
        this.provisioner = provisioner;
    }

    /** Publishes the series of {@code courses}, and no longer those of courses gone from the config. */
    public synchronized void courses(Set<String> courses) {
        for (String gone : new ArrayList<>(byCourse.keySet())) {
            if (!courses.contains(gone)) {
                byCourse.remove(gone).forEach(registry::remove);
            }
        }
        for (String course : courses) {
            if (byCourse.containsKey(course)) {
                continue;
            }
            List<Meter> meters = new ArrayList<>();
            for (Phase phase : Phase.values()) {
                meters.add(Gauge.builder("ievirsh.course.vms", () -> count(course, phase))
                        .description("Course VMs of the students in each course's group, by phase")
                        .tag("course", course).tag("phase", phase.name()).strongReference(true).register(registry));
            }
            meters.add(Gauge.builder("ievirsh.course.students", () -> provisioner.states(course).size())
                    .description("Members of each course's students group at the last course round")
                    .tag("course", course).strongReference(true).register(registry));
            byCourse.put(course, meters);
        }
    }

    private int count(String course, Phase phase) {
        long now = System.nanoTime();
        if (now - countedAt > 1_000_000_000L) {
            Map<String, Map<Phase, Integer>> fresh = new HashMap<>();
            for (Map<String, VmStatus> vms : book.users().values()) {
                for (VmStatus status : vms.values()) {
                    if (status.course() != null && status.phase() != null) {
                        fresh.computeIfAbsent(status.course(), c -> new java.util.EnumMap<>(Phase.class))
                                .merge(status.phase(), 1, Integer::sum);
                    }
                }
            }
            counts = fresh;
            countedAt = now;
        }
        return counts.getOrDefault(course, Map.of()).getOrDefault(phase, 0);
    }
}
