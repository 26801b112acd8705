package org.ievirsh.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.ievirsh.api.v1.Condition;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.controller.Daemon;
import org.ievirsh.support.Bases;
import org.ievirsh.support.Commands;
import org.ievirsh.support.Statuses;
import org.ievirsh.users.NssOwners;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * CourseIT is the README's "Courses" as an admin, students and an
 * instructor meet it: real POSIX users and groups, the whole daemon (the
 * controller and its control socket) on the system libvirtd, the CLI run as
 * each user. A course of four students (one with a directory, one with only
 * a home, one whose directory is a link, one with a file of root's in the
 * way), an instructor, an outsider. The tests share the world, in order.
 */
@EnabledIfSystemProperty(named = "ievirsh.e2e", matches = "true")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CourseIT {
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final String S1 = "ievcs1";
    private static final String S2 = "ievcs2";
    private static final String S3 = "ievcs3";
    private static final String S4 = "ievcs4";
    private static final String TEACHER = "ievct1";
    private static final String OUTSIDER = "ievco1";
    private static final String STUDENTS = "ievcs";
    private static final String STAFF = "ievct";
    private static final Host HOST = new Host();

    @TempDir
    static Path tmp;
    static Path dept;
    static Path bases;
    static Path elsewhere;
    static String rootsFile = "apiVersion: ie-virsh/v1\nkind: VirtualMachine\nspec:\n  image: x.qcow2\n";
    static CountDownLatch stop;
    static Thread daemon;

    @BeforeAll
    static void start() throws Exception {
        Host.removeDomains("ievc");
        dept = Host.openToAll(Files.createDirectories(tmp.resolve("dept")));
        Path homes = Files.createDirectories(dept.resolve("home"));
        int uid = 41401;
        for (String user : List.of(S1, S2, S3, S4, TEACHER, OUTSIDER)) {
            HOST.user(user, uid++, homes);
            Files.createDirectories(dept.resolve("images").resolve(user));
            Commands.ok("chown", user + ":" + user, dept.resolve("images").resolve(user).toString());
        }
        HOST.group(STUDENTS, 41490, S1, S2, S3, S4);
        HOST.group(STAFF, 41491, TEACHER);
        // S2 has a home and no ie-virsh directory; S3's is a link to a directory of theirs elsewhere; S4 has a file
        // of root's where the course's would go.
        Files.delete(dir(S2));
        Files.delete(dir(S3));
        elsewhere = Files.createDirectories(homes.resolve(S3).resolve("elsewhere"));
        Commands.ok("chown", S3 + ":" + S3, elsewhere.toString());
        Commands.ok("runuser", "-u", S3, "--", "ln", "-s", elsewhere.toString(), dir(S3).toString());
        Files.writeString(dir(S4).resolve("os-lab.yaml"), rootsFile);
        Host.templates(dept.resolve("templates"));
        Commands.ok("chmod", "-R", "a+rX", dept.resolve("templates").toString());
        bases = Bases.directory();
        Bases.base(bases, "tiny", "64M", "description: a blank disk\n");
        Files.writeString(dept.resolve("controller.yaml"), config());
        Commands.ok("chmod", "a+r", dept.resolve("controller.yaml").toString());
        startDaemon();
    }

    static void startDaemon() throws Exception {
        ControllerConfig config = ControllerConfig.parse("course.yaml", Files.readAllBytes(dept.resolve(
                "controller.yaml"))).orThrow();
        stop = new CountDownLatch(1);
        CountDownLatch stopping = stop;
        daemon = new Thread(() -> {
            try {
                Daemon.run(config, Optional.empty(), new NssOwners(), stopping);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "course-daemon");
        daemon.start();
    }

    static void stopDaemon() throws InterruptedException {
        stop.countDown();
        daemon.join(30_000);
    }

    static String config() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        return "users:\n  directories: " + dept.resolve("home") + "/*/ie-virsh\n  minUid: 1000\n"
                + "images:\n  inspection: off\n  root: " + dept.resolve("images") + "\n"
                + "baseImages:\n  root: " + bases + "\n"
                + "templates: " + dept.resolve("templates") + "\n"
                + "quota: {default: {vms: 0, runningVms: 0}}\n"
                + "courses:\n  os:\n    students: " + STUDENTS + "\n    instructors: " + STAFF + "\n"
                + "    expires: 2099-06-30\n"
                + "    quota: {vms: 1, runningVms: 1, vcpus: 1, memory: 512MiB, disk: 1GiB}\n"
                + "    vms:\n      lab: {baseImage: tiny, template: small, runStrategy: Always}\n"
                + "blades:\n  - {name: sys, uri: \"" + Host.SYSTEM + "\", capacity: {vcpus: 16}}\n"
                + "console: {socket: " + dept.resolve("control.sock") + "}\n"
                + "addresses:\n  sources: []\n"
                + "http: {listen: \"127.0.0.1:" + port + "\"}\nresync: 3s\nstopGracePeriod: 5s\n";
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (stop != null) {
            stopDaemon();
        }
        Host.removeDomains("ievc");
        HOST.deleteUsers();
        Commands.run(List.of("rm", "-rf", bases.toString()));
    }

    static Path dir(String user) {
        return dept.resolve("home").resolve(user).resolve("ie-virsh");
    }

    static Commands.Result cli(String user, String... args) {
        List<String> command = new ArrayList<>(List.of("runuser", "-u", user, "--", "env",
                "IE_VIRSH_DIR=" + dir(user), "java", "-XX:TieredStopAtLevel=1", "-jar",
                System.getProperty("ievirsh.jar")));
        command.addAll(List.of(args));
        command.addAll(List.of("--config", dept.resolve("controller.yaml").toString()));
        return Commands.run(command);
    }

    static VmStatus awaitStatus(String user, String vm, java.util.function.Predicate<VmStatus> ok) {
        await().atMost(WAIT).pollInterval(Duration.ofMillis(200)).until(() -> Statuses.read(dir(user), vm)
                .filter(ok).isPresent());
        return Statuses.read(dir(user), vm).orElseThrow();
    }

    static int owner(Path path) throws Exception {
        return (Integer) Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    }

    @Test
    @Order(1)
    void everyStudentOfTheGroupGetsARunningVmWrittenAsThemWithoutTypingAnything() throws Exception {
        for (String user : List.of(S1, S2)) {
            VmStatus lab = awaitStatus(user, "os-lab", s -> s.phase() == Phase.Running);
            assertEquals("os", lab.course());
            assertTrue(lab.expires().startsWith("2099-0"), lab.expires());
            int uid = owner(dept.resolve("home").resolve(user));
            assertEquals(uid, owner(dir(user).resolve("os-lab.yaml")), "the file is written as the student");
            assertEquals(uid, owner(dir(user)), "the directory too, where it was missing");
            assertEquals(uid, owner(dept.resolve("images").resolve(user).resolve("os-lab.qcow2")));
            assertTrue(Files.readString(dir(user).resolve("os-lab.yaml")).startsWith("# Course os: "));
        }
        // The personal quota is 0 VMs: the course VM counts against the course's.
        assertEquals("running", Statuses.read(dir(S1), "os-lab").orElseThrow().message());
        // Nothing through S3's link, nothing over root's file at S4's, nothing for the outsider.
        assertEquals(List.of(), List.of(elsewhere.toFile().list()));
        assertEquals(rootsFile, Files.readString(dir(S4).resolve("os-lab.yaml")));
        assertEquals(0, owner(dir(S4).resolve("os-lab.yaml")));
        assertFalse(Files.exists(dir(OUTSIDER).resolve("os-lab.yaml")));
        await().atMost(WAIT).until(() -> Files.exists(dir(S4).resolve(".status/courses")));
        assertTrue(Files.readString(dir(S4).resolve(".status/courses")).contains("\nos-lab\n"));
    }

    @Test
    @Order(2)
    void theInstructorListsTheCourseAndOthersAreRefused() {
        Commands.Result list = cli(TEACHER, "course", "list", "os");
        assertEquals(0, list.code(), list.output());
        String[] lines = list.output().split("\n");
        assertTrue(lines[0].startsWith("USER") && lines[0].contains("EXPIRES"), list.output());
        assertTrue(list.output().matches("(?s).*" + S1 + " +os-lab +Running +sys +- +2099-0.*"), list.output());
        assertTrue(list.output().matches("(?s).*" + S2 + " +os-lab +Running.*"), list.output());
        assertTrue(list.output().matches("(?s).*" + S3 + " +os-lab +NoDirectory.*"), list.output());
        assertFalse(list.output().contains(OUTSIDER));

        for (String user : List.of(S1, OUTSIDER)) {
            Commands.Result refused = cli(user, "course", "list", "os");
            assertEquals(1, refused.code(), refused.output());
            assertTrue(refused.output().contains("you are no instructor of a course os"), refused.output());
        }
        Commands.Result courses = cli(S1, "courses");
        assertTrue(courses.output().matches("(?s).*os +student +2099-06-30 +os-lab.*"), courses.output());
        Commands.Result teaches = cli(TEACHER, "courses");
        assertTrue(teaches.output().matches("(?s).*os +instructor.*"), teaches.output());
    }

    @Test
    @Order(3)
    void theInstructorOpensAStudentsConsoleAndTheStudentSeesIt() throws Exception {
        // The instructor's session stays open while stdin does (8 s), as a terminal would.
        Process session = new ProcessBuilder("runuser", "-u", TEACHER, "--", "sh", "-c", "sleep 8 | java"
                + " -XX:TieredStopAtLevel=1 -jar " + System.getProperty("ievirsh.jar") + " console " + S1
                + "/os-lab --config " + dept.resolve("controller.yaml")).redirectErrorStream(true).start();
        VmStatus watched = awaitStatus(S1, "os-lab", s -> s.condition(Condition.CONSOLE_OPEN) != null);
        assertTrue(watched.condition(Condition.CONSOLE_OPEN).message().startsWith("instructor " + TEACHER + " (uid "),
                watched.condition(Condition.CONSOLE_OPEN).message());
        session.waitFor();
        String output = new String(session.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, session.exitValue(), output);
        awaitStatus(S1, "os-lab", s -> s.condition(Condition.CONSOLE_OPEN) == null);

        Commands.Result outsider = cli(OUTSIDER, "console", S1 + "/os-lab");
        assertEquals(1, outsider.code(), outsider.output());
        assertTrue(outsider.output().contains("only your own VMs, or a course VM"), outsider.output());
        // A student is no instructor of a fellow student's VM.
        assertEquals(1, cli(S2, "console", S1 + "/os-lab").code());
        // An instructor removed from the group loses access at once.
        Commands.ok("gpasswd", "-d", TEACHER, STAFF);
        try {
            Commands.Result removed = cli(TEACHER, "console", S1 + "/os-lab");
            assertEquals(1, removed.code(), removed.output());
            assertEquals(1, cli(TEACHER, "course", "list", "os").code());
        } finally {
            Commands.ok("gpasswd", "-a", TEACHER, STAFF);
        }
    }

    @Test
    @Order(4)
    void aCourseVmTheStudentRemovedIsNotWrittenAgainAfterARestart() throws Exception {
        Commands.ok("runuser", "-u", S1, "--", "rm", dir(S1).resolve("os-lab.yaml").toString());
        await().atMost(WAIT).until(() -> !Host.virsh("list", "--all", "--name").contains(S1 + "-os-lab"));
        stopDaemon();
        startDaemon();
        // The new controller writes nothing new (S2's VM runs on: it was there), several rounds over.
        awaitStatus(S2, "os-lab", s -> s.phase() == Phase.Running);
        Thread.sleep(8_000);
        assertFalse(Files.exists(dir(S1).resolve("os-lab.yaml")), "removed for good");
        assertTrue(Files.exists(dept.resolve("images").resolve(S1).resolve("os-lab.qcow2")), "the disk is kept");
    }

    @Test
    @Order(5)
    void aGroupOfTenThousandMembersIsReadWholeAndOnlyItsAccountsCount() throws Exception {
        HOST.group("ievcbig", 41492, S1);
        // Ten thousand names in the group's line (as a directory server may list), of which one is an account.
        List<String> lines = Files.readAllLines(Path.of("/etc/group"));
        StringBuilder names = new StringBuilder(S1);
        for (int i = 0; i < 9_999; i++) {
            names.append(",ievcgone").append(i);
        }
        List<String> edited = lines.stream().map(l -> l.startsWith("ievcbig:") ? "ievcbig:x:41492:" + names : l).toList();
        Files.write(Path.of("/etc/group"), edited);
        long t0 = System.nanoTime();
        Optional<org.ievirsh.posix.Nss.Group> group = org.ievirsh.posix.Nss.group("ievcbig");
        assertEquals(10_000, group.orElseThrow().members().size());
        List<org.ievirsh.posix.Account> members = org.ievirsh.course.CourseMembers.nss().of("ievcbig", 1000)
                .orElseThrow();
        System.out.printf("a group of 10,000 names read and resolved in %.0f ms%n", (System.nanoTime() - t0) / 1e6);
        assertEquals(List.of(S1), members.stream().map(org.ievirsh.posix.Account::name).toList());
    }
}
