package org.ievirsh.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.support.Commands;
import org.ievirsh.support.Scrapes;
import org.ievirsh.support.Statuses;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * LdapIT runs the controller as the service runs it with students who
 * exist only in a real LDAP directory (slapd, reached by nslcd with
 * enumeration off and 3 s time limits): their VMs run, their quota and
 * their course's expiry come from LDAP groups, and the student's CLI works
 * through NSS. Then the directory server hangs: an LDAP student's running
 * VM is left exactly as it is, and a local student's first VM still runs
 * (the time is printed beside the one before the hang).
 */
@EnabledIfSystemProperty(named = "ievirsh.e2e", matches = "true")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LdapIT {
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final String STUDENT = "ievldap1";
    private static final int UID = 46001;
    private static final String LOCAL = "ievlocal1";
    /** An LDAP student whose directory first appears while the server hangs. */
    private static final String LATE = "ievldap2";
    private static final int LATE_UID = 46002;
    private static final Host HOST = new Host();

    @TempDir
    static Path tmp;
    static Path base;
    static Ldap ldap;
    static Process controller;
    static int port;
    static long localBefore;

    @BeforeAll
    static void setUp() throws Exception {
        base = Host.openToAll(Files.createDirectories(tmp.resolve("dept")));
        Path homes = Files.createDirectories(base.resolve("home"));
        ldap = Ldap.start(tmp.resolve("ldap"), List.of(new Ldap.Account(STUDENT, UID, homes.resolve(STUDENT),
                List.of("ievldapquota", "ievldapcourse")), new Ldap.Account(LATE, LATE_UID, homes.resolve(LATE),
                List.of())), List.of(new Ldap.Group("ievldapquota", 46100),
                new Ldap.Group("ievldapcourse", 46101)));
        await().atMost(WAIT).until(() -> Commands.run(List.of("getent", "passwd", STUDENT)).code() == 0);
        assertTrue(Commands.ok("id", "-Gn", STUDENT).contains("ievldapquota"), "NSS gives the LDAP groups");
        Files.createDirectories(homes.resolve(STUDENT).resolve("ie-virsh"));
        Commands.ok("chown", "-R", UID + ":" + UID, homes.resolve(STUDENT).toString());
        Files.createDirectories(base.resolve("images"));
        Host.templates(base.resolve("templates"));
        for (String vm : new String[] {"web", "db", "box"}) {
            Host.image(base.resolve("images").resolve(STUDENT), STUDENT, vm + ".qcow2");
        }
        Host.image(base.resolve("images").resolve(LATE), LATE, "web.qcow2");
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path config = Files.writeString(base.resolve("controller.yaml"), "users:\n  directories: " + homes
                + "/*/ie-virsh\n  minUid: 1000\nimages:\n  inspection: off\n  root: " + base.resolve("images") + "\n"
                + "templates: " + base.resolve("templates") + "\n"
                + "blades:\n  - {name: b1, uri: \"" + Host.SYSTEM + "\", capacity: {vcpus: 32, memory: 4GiB}}\n"
                + "quota:\n  groups: {ievldapquota: {vms: 1}}\n"
                + "lifecycle:\n  groups: {ievldapcourse: {expires: 2099-01-31}}\n"
                + "courses:\n  ldapc:\n    students: ievldapcourse\n    quota: {vms: 1}\n"
                + "    vms:\n      box: {image: box.qcow2, template: small, memory: 64MiB, runStrategy: Halted}\n"
                + "console: {socket: " + base.resolve("console.sock") + "}\n"
                + "http: {listen: \"127.0.0.1:" + port + "\"}\nresync: 10s\nstopGracePeriod: 5s\n");
        controller = new ProcessBuilder("java", "-jar", System.getProperty("ievirsh.jar"), "controller", "--config",
                config.toString()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(Path.of("target", "LdapIT-controller.log").toFile()))
                .start();
        HttpClient http = HttpClient.newHttpClient();
        await().atMost(WAIT).ignoreExceptions().until(() -> http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/readyz")).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode() == 200);
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (controller != null) {
            controller.destroy();
            controller.waitFor(30, TimeUnit.SECONDS);
        }
        Host.removeDomains(STUDENT + "-");
        Host.removeDomains(LOCAL + "-");
        Host.removeDomains(LATE + "-");
        HOST.deleteUsers();
        if (ldap != null) {
            ldap.close();
        }
    }

    /** Reconciles of students so far, by the controller's metrics. */
    static double reconciles() throws Exception {
        String metrics = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        return Scrapes.sum(metrics, "ievirsh_reconcile_total");
    }

    static Path dir(String user) {
        return base.resolve("home").resolve(user).resolve("ie-virsh");
    }

    static String spec(String vm) {
        return "apiVersion: ie-virsh/v1\nkind: VirtualMachine\nspec:\n  template: small\n  image: " + vm
                + ".qcow2\n  runStrategy: Always\n  memory: 64MiB\n";
    }

    static void save(String user, String vm) throws Exception {
        Host.write(dir(user).resolve(vm + ".yaml"), user, spec(vm));
    }

    @Test
    @Order(1)
    void anLdapStudentsVmRunsUnderTheQuotaAndCourseOfTheirLdapGroups() throws Exception {
        save(STUDENT, "web");
        VmStatus web = Statuses.awaitPhase(dir(STUDENT), "web", Phase.Running, WAIT);
        assertEquals(STUDENT, web.owner().user());
        assertEquals(UID, web.owner().uid());
        assertTrue(String.valueOf(web.expires()).startsWith("2099-02-01"), "the course group's date: " + web.expires());
        save(STUDENT, "db");
        VmStatus db = Statuses.awaitPhase(dir(STUDENT), "db", Phase.QuotaExceeded, WAIT);
        assertTrue(db.message().contains("1"), "the LDAP group's quota of 1 VM: " + db.message());
        // The course of their LDAP group gave them its VM, written as them, counted against the course's quota
        // (their own quota of 1 VM is full).
        VmStatus box = Statuses.awaitPhase(dir(STUDENT), "ldapc-box", Phase.Stopped, WAIT);
        assertEquals("ldapc", box.course());
        assertEquals(UID, (Integer) Files.getAttribute(dir(STUDENT).resolve("ldapc-box.yaml"), "unix:uid",
                java.nio.file.LinkOption.NOFOLLOW_LINKS));
        // The student's own command, through NSS and LDAP.
        String list = Commands.ok("runuser", "-u", STUDENT, "--", "java", "-jar", System.getProperty("ievirsh.jar"),
                "list", "--dir", dir(STUDENT).toString());
        assertTrue(list.contains("name " + STUDENT) && list.contains("Running"), list);
        // Baseline for the hang below: a local student's first VM while the directory server answers.
        HOST.user(LOCAL, 46501, base.resolve("home"));
        ldap.restartNslcd();  // the README's step after adding a local account: nslcd's ALLLOCAL list is made at its start
        Host.image(base.resolve("images").resolve(LOCAL), LOCAL, "web.qcow2");
        long t0 = System.nanoTime();
        save(LOCAL, "web");
        Statuses.awaitPhase(dir(LOCAL), "web", Phase.Running, WAIT);
        localBefore = (System.nanoTime() - t0) / 1_000_000;
    }

    @Test
    @Order(2)
    void whileTheDirectoryServerHangsNoVmChangesAndALocalStudentIsNotHeldUp() throws Exception {
        String webBefore = Commands.ok("virsh", "-q", "-c", Host.SYSTEM, "domid", STUDENT + "-web").strip();
        Host.image(base.resolve("images").resolve(LOCAL), LOCAL, "db.qcow2");
        ldap.hang();
        try {
            // Written with numeric ids: the test's own chown must not wait for the directory server.
            long t0 = System.nanoTime();
            Path temporary = Files.writeString(dir(LOCAL).resolve(".db.yaml.tmp"), spec("db"));
            Files.setAttribute(temporary, "unix:uid", 46501);  // (chown(1) asks NSS even for numbers)
            Files.setAttribute(temporary, "unix:gid", 46501);
            Files.move(temporary, dir(LOCAL).resolve("db.yaml"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            Statuses.awaitPhase(dir(LOCAL), "db", Phase.Running, WAIT);
            long during = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("ldap: a local student's new VM running in %d ms while slapd hangs (%d ms while it"
                    + " answered; nslcd's time limit is 3 s)%n", during, localBefore);
            // What libvirtd asks at the start (the QEMU uid's groups) is answered from the local files alone:
            // asked of the hung server, it would take nslcd's time limit of 3 s.
            long g0 = System.nanoTime();
            String groups = Commands.ok("id", "-G", LOCAL).strip();
            long groupsMs = (System.nanoTime() - g0) / 1_000_000;
            assertTrue(groupsMs < 2000, "a local account's groups without LDAP: " + groupsMs + " ms");
            assertFalse(groups.isEmpty() || groups.contains("4610"), "the local groups alone: " + groups);
            // Passes over both students with the server hung (the reconcile counter moves on): the LDAP
            // student's VM is exactly as it was.
            double before = reconciles();
            await().atMost(WAIT).ignoreExceptions().until(() -> reconciles() >= before + 4);
            VmStatus web = Statuses.read(dir(STUDENT), "web").orElseThrow();
            assertEquals(Phase.Running, web.phase(), web.message());
            assertEquals(webBefore, Commands.ok("virsh", "-q", "-c", Host.SYSTEM, "domid", STUDENT + "-web").strip(),
                    "the same QEMU, never restarted");
            assertEquals(Phase.QuotaExceeded, Statuses.read(dir(STUDENT), "db").orElseThrow().phase());

            // A student NSS has never named: the status says why nothing happens, and nothing is made.
            Path late = Files.createDirectories(dir(LATE));
            for (Path p : List.of(late.getParent(), late)) {
                Files.setAttribute(p, "unix:uid", LATE_UID);
                Files.setAttribute(p, "unix:gid", LATE_UID);
            }
            Path file = Files.writeString(late.resolve("web.yaml"), spec("web"));
            Files.setAttribute(file, "unix:uid", LATE_UID);
            Files.setAttribute(file, "unix:gid", LATE_UID);
            VmStatus unresolved = Statuses.awaitPhase(late, "web", Phase.Unknown, WAIT);
            assertEquals("AccountUnresolved", unresolved.condition("Ready").reason(), unresolved.message());
            assertEquals(1, Commands.run(List.of("virsh", "-q", "-c", Host.SYSTEM, "domstate", LATE + "-web")).code(),
                    "no domain for a student nobody could name");
        } finally {
            ldap.resume();
        }
        // The directory answers again: the student NSS could not name is reconciled as any other.
        VmStatus running = Statuses.awaitPhase(dir(LATE), "web", Phase.Running, WAIT);
        assertEquals(LATE, running.owner().user());
    }
}
