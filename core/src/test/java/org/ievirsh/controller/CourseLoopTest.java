package org.ievirsh.controller;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import org.ievirsh.api.v1.Condition;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.console.ConsoleVms;
import org.ievirsh.course.CourseMembers;
import org.ievirsh.course.CourseProvisioner;
import org.ievirsh.image.EmptyQcow2;
import org.ievirsh.libvirt.FakeBladeLink;
import org.ievirsh.libvirt.FakeHypervisor;
import org.ievirsh.metrics.Metrics;
import org.ievirsh.posix.Account;
import org.ievirsh.posix.Nss;
import org.ievirsh.support.ManualTime;
import org.ievirsh.support.World;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CourseLoopTest runs the whole controller with a course (the README's
 * "Courses") against in-memory blades: the course's files written once into
 * each student's directory, its quota and its end apart from the student's
 * own, the instructor's view. Students are played by the account running
 * the test; the groups by {@link #groups}.
 */
class CourseLoopTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String COURSE = "courses:\n  os2026:\n    students: os2026\n    instructors: os2026-staff\n"
            + "    quota: {vms: 1, runningVms: 1, vcpus: 2, memory: 2GiB}\n"
            + "    vms:\n      lab: {image: lab.qcow2, template: small, runStrategy: Halted,"
            + " description: \"Lab \\\"one\\\"\"}\n";

    @TempDir
    Path tmp;
    World world;
    final FakeHypervisor b1 = new FakeHypervisor("b1");
    Controller controller;
    final ManualTime time = new ManualTime();
    /** The groups NSS would give: group to member names. */
    final Map<String, List<String>> groups = new ConcurrentHashMap<>();

    @BeforeEach
    void setUp() throws Exception {
        world = new World(tmp).student("alice").student("bob").homeOnly("carol");
        for (String user : List.of("alice", "bob", "carol")) {
            Files.write(world.image(user, "lab.qcow2"), EmptyQcow2.of(1L << 30));
        }
        groups.put("os2026", new ArrayList<>(List.of("alice", "bob", "carol")));
        groups.put("os2026-staff", new ArrayList<>(List.of("teacher")));
        world.groups(user -> groups.entrySet().stream().filter(e -> e.getValue().contains(user))
                .map(Map.Entry::getKey).toList());
    }

    @AfterEach
    void tearDown() {
        if (controller != null) {
            controller.close();
        }
    }

    private final CourseMembers members = new CourseMembers() {
        @Override
        public Optional<List<Account>> of(String group, int minUid) {
            List<String> names = groups.get(group);
            return names == null ? Optional.empty() : Optional.of(names.stream().map(n -> new Account(n,
                    Nss.effectiveUid(), Nss.effectiveGid(), tmp.resolve("home").resolve(n).toString())).toList());
        }

        @Override
        public boolean isMember(String user, int gid, String group) {
            return groups.getOrDefault(group, List.of()).contains(user);
        }
    };

    private void start(String extra) {
        ControllerConfig config = world.config("  - {name: b1, uri: \"fake:///b1\"}\n", extra);
        controller = new Controller(config, world.owners(), b -> new FakeBladeLink(b1),
                new Metrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)), time, time);
        controller.courseMembers(members);
        controller.start();
    }

    private void until(Callable<Boolean> condition) {
        await().atMost(WAIT).pollInterval(Duration.ofMillis(50)).until(() -> {
            time.advance(Duration.ofMillis(100));
            return condition.call();
        });
    }

    private VmStatus awaitPhase(String user, String vm, Phase phase) {
        until(() -> world.status(user, vm).map(s -> s.phase() == phase).orElse(false));
        return world.status(user, vm).orElseThrow();
    }

    @Test
    void everyStudentGetsTheCourseVmOnceAndARemovedOneStaysRemoved() throws Exception {
        start(COURSE);
        VmStatus alice = awaitPhase("alice", "os2026-lab", Phase.Stopped);
        assertEquals("os2026", alice.course());
        awaitPhase("bob", "os2026-lab", Phase.Stopped);
        // carol had a home but no ie-virsh directory: it is made for her, as her.
        awaitPhase("carol", "os2026-lab", Phase.Stopped);
        Path file = world.dir("alice").resolve("os2026-lab.yaml");
        String text = Files.readString(file);
        assertTrue(text.startsWith("# Course os2026: "), text);
        assertTrue(text.contains("  course: os2026\n") && text.contains("  description: \"Lab \\\"one\\\"\"\n"), text);
        assertEquals(List.of("os2026-lab"), Files.readAllLines(world.dir("alice").resolve(".status/courses"))
                .stream().filter(l -> !l.startsWith("#")).toList());

        Files.delete(file);
        until(() -> b1.names().stream().noneMatch(n -> n.equals("alice-os2026-lab")));
        int rounds = 3;
        for (int i = 0; i < rounds; i++) {
            controller.courses().provision(controller.config());
        }
        assertFalse(Files.exists(file), "a course VM the student removed is not written again");

        // Nor by another controller (a restart, a standby taking over): the record is in the student's .status.
        controller.close();
        start(COURSE);
        until(() -> controller.courses().states("os2026").size() == 3);
        assertFalse(Files.exists(file));
        assertEquals(Phase.Stopped, world.status("bob", "os2026-lab").orElseThrow().phase());
    }

    @Test
    void aCourseVmCountsAgainstTheCourseQuotaAndEndsWithTheCourse() throws Exception {
        world.vm("alice", "own", "Halted");
        start("quota: {default: {vms: 1, runningVms: 1, vcpus: 2, memory: 2GiB}}\n"
                + COURSE.replace("    students: os2026\n", "    students: os2026\n    expires: 2020-01-31\n"));
        // Her own VM fills her own quota; the course VM has the course's.
        assertEquals(Phase.Stopped, awaitPhase("alice", "own", Phase.Stopped).phase());
        VmStatus lab = awaitPhase("alice", "os2026-lab", Phase.Expired);
        assertTrue(lab.expires().startsWith("2020-0"), "the course's end: " + lab.expires());
        assertEquals(Phase.Stopped, world.status("alice", "own").orElseThrow().phase(), "her own VM has no end");
    }

    @Test
    void onlyAStudentOfTheCourseMayNameIt() throws Exception {
        groups.get("os2026").remove("bob");
        start(COURSE);
        world.write("bob", "mine.yaml", "apiVersion: ie-virsh/v1\nkind: VirtualMachine\nspec:\n  image: lab.qcow2\n"
                + "  course: os2026\n");
        VmStatus invalid = awaitPhase("bob", "mine", Phase.Invalid);
        assertTrue(invalid.message().contains("mine.yaml:5:11") && invalid.message().contains("not a student of os2026"),
                invalid.message());
        world.write("bob", "other.yaml", "apiVersion: ie-virsh/v1\nkind: VirtualMachine\nspec:\n  image: lab.qcow2\n"
                + "  course: nosuch\n");
        assertTrue(awaitPhase("bob", "other", Phase.Invalid).message().contains("there is no course nosuch"));
        assertFalse(Files.exists(world.dir("bob").resolve("os2026-lab.yaml")), "bob is not in the group");
    }

    @Test
    void aLinkOrAFileInTheWayIsNeverWrittenThrough() throws Exception {
        // carol's ie-virsh is a link to a directory elsewhere; alice has a file of her own at the course's name.
        Path elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));
        Files.createSymbolicLink(world.dir("carol"), elsewhere);
        world.write("alice", "os2026-lab.yaml", "apiVersion: ie-virsh/v1\nkind: VirtualMachine\nspec:\n"
                + "  image: lab.qcow2\n  runStrategy: Halted\n");
        byte[] hers = Files.readAllBytes(world.dir("alice").resolve("os2026-lab.yaml"));
        start(COURSE);
        awaitPhase("bob", "os2026-lab", Phase.Stopped);
        until(() -> controller.courses().states("os2026").size() == 3);
        assertEquals(List.of(), List.of(elsewhere.toFile().list()), "nothing written through the link");
        CourseProvisioner.State carol = controller.courses().states("os2026").get("carol");
        assertFalse(carol.provisioned());
        assertTrue(carol.reason().contains("symbolic link"), carol.reason());
        assertEquals(new String(hers), Files.readString(world.dir("alice").resolve("os2026-lab.yaml")),
                "her own file is left as it is");
        assertTrue(controller.courses().states("os2026").get("alice").provisioned());
    }

    @Test
    void aStudentWhoseHomeIsMissingGetsNothingAndIsShownNoDirectory() throws Exception {
        groups.get("os2026").add("dave");  // in the group, but NSS's home does not exist
        start(COURSE);
        awaitPhase("alice", "os2026-lab", Phase.Stopped);
        until(() -> controller.courses().states("os2026").size() == 4);
        CourseProvisioner.State dave = controller.courses().states("os2026").get("dave");
        assertFalse(dave.provisioned());
        assertTrue(dave.reason().contains("cannot be entered"), dave.reason());
        assertFalse(Files.exists(tmp.resolve("home").resolve("dave")), "nothing made in its place");
        assertTrue(controller.classroom().list("teacher", "os2026").lines().contains(
                "dave\tos2026-lab\tNoDirectory\t\t\t"));
    }

    @Test
    void anInstructorListsTheCourseAndTheStudentSeesTheirConsoleWatched() throws Exception {
        world.vm("alice", "own", "Halted");
        start(COURSE);
        awaitPhase("alice", "os2026-lab", Phase.Stopped);
        awaitPhase("bob", "os2026-lab", Phase.Stopped);
        awaitPhase("alice", "own", Phase.Stopped);
        ConsoleVms.Listing listing = controller.classroom().list("teacher", "os2026");
        assertEquals(null, listing.refusal());
        assertEquals(List.of("alice\tos2026-lab\tStopped\t\t\t", "bob\tos2026-lab\tStopped\t\t\t",
                "carol\tos2026-lab\tStopped\t\t\t"), listing.lines().stream().map(l -> l.replaceAll("\tb1\t", "\t\t"))
                .toList());
        assertEquals("you are no instructor of a course os2026 (ie-virsh courses lists yours)",
                controller.classroom().list("alice", "os2026").refusal());
        assertEquals(controller.classroom().list("teacher", "nosuch").refusal().replace("nosuch", "os2026"),
                controller.classroom().list("alice", "os2026").refusal(), "the same words: nothing learnt");
        assertEquals(Optional.of("os2026"), controller.classroom().teaching("teacher", "alice", "os2026-lab"));
        assertEquals(Optional.empty(), controller.classroom().teaching("teacher", "alice", "own"),
                "never a student's own VM");
        groups.get("os2026-staff").remove("teacher");
        assertEquals(Optional.empty(), controller.classroom().teaching("teacher", "alice", "os2026-lab"),
                "removed from the group: no access, at once");
        groups.get("os2026-staff").add("teacher");

        controller.consoleWatch().opened("alice", "os2026-lab", "instructor teacher (uid 1234)");
        until(() -> world.status("alice", "os2026-lab").map(s -> s.condition(Condition.CONSOLE_OPEN) != null)
                .orElse(false));
        assertEquals("instructor teacher (uid 1234) has your console open", world.status("alice", "os2026-lab")
                .orElseThrow().condition(Condition.CONSOLE_OPEN).message());
        controller.consoleWatch().closed("alice", "os2026-lab", "instructor teacher (uid 1234)");
        until(() -> world.status("alice", "os2026-lab").map(s -> s.condition(Condition.CONSOLE_OPEN) == null)
                .orElse(false));
    }
}
