package org.ievirsh.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.controller.Controller;
import org.ievirsh.libvirt.LibvirtBladeLink;
import org.ievirsh.metrics.Metrics;
import org.ievirsh.support.Commands;
import org.ievirsh.users.NssOwners;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * StudentCliIT runs the student CLI as real unprivileged users (useradd,
 * runuser) against a directory that a running controller reconciles on
 * libvirt's test driver.
 */
@EnabledIfSystemProperty(named = "ievirsh.e2e", matches = "true")
class StudentCliIT {
    private static final String ALICE = "ievcli1";
    private static final String MALLORY = "ievcli2";
    private static final Host HOST = new Host();

    @TempDir
    static Path tmp;
    static Path base;
    static Controller controller;

    @BeforeAll
    static void start() throws Exception {
        base = Files.createDirectories(tmp.resolve("dept"));
        Commands.ok("chmod", "755", tmp.toString(), base.toString());
        Path homes = Files.createDirectories(base.resolve("home"));
        HOST.user(ALICE, 41101, homes);
        HOST.user(MALLORY, 41102, homes);
        Host.image(base.resolve("images").resolve(ALICE), ALICE, "web.qcow2");
        Files.writeString(base.resolve("node.xml"), "<node><cpu><nodes>1</nodes><sockets>1</sockets><cores>8</cores>"
                + "<threads>1</threads><active>8</active><mhz>2000</mhz><model>t</model></cpu>"
                + "<memory>16777216</memory></node>");
        Host.templates(base.resolve("templates"));
        String config = "users:\n  directories: " + homes + "/*/ie-virsh\n  minUid: 1000\n"
                + "images:\n  inspection: off\n  root: " + base.resolve("images") + "\n"
                + "templates: " + base.resolve("templates") + "\n"
                + "blades:\n  - {name: t1, uri: \"test://" + base.resolve("node.xml") + "\"}\n"
                + "quota:\n  users: {" + MALLORY + ": {vms: 1}}\n"
                + "http: {listen: \"127.0.0.1:0\"}\nresync: 5s\nstopGracePeriod: 2s\n";
        Files.writeString(base.resolve("controller.yaml"), config);
        Commands.ok("chmod", "-R", "a+rX", base.resolve("templates").toString(), base.resolve("controller.yaml").toString());
        controller = new Controller(ControllerConfig.parse("c.yaml", config.getBytes(StandardCharsets.UTF_8)).orThrow(),
                new NssOwners(), b -> new LibvirtBladeLink(b.name(), b.uri()),
                new Metrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)), Clock.systemUTC());
        controller.start();
    }

    @AfterAll
    static void stop() {
        if (controller != null) {
            controller.close();
        }
        HOST.deleteUsers();
    }

    private static Path dir(String user) {
        return base.resolve("home").resolve(user).resolve("ie-virsh");
    }

    private static Commands.Result cli(String user, String... args) {
        List<String> command = new ArrayList<>(List.of("runuser", "-u", user, "--", "env",
                "IE_VIRSH_DIR=" + dir(user), "java", "-XX:TieredStopAtLevel=1", "-jar",
                System.getProperty("ievirsh.jar")));
        command.addAll(List.of(args));
        command.addAll(List.of("--config", base.resolve("controller.yaml").toString()));
        return Commands.run(command);
    }

    @Test
    void aStudentDrivesTheirVmWithTheOldCommands() throws Exception {
        Commands.Result defined = cli(ALICE, "define", "web", "--template", "small", "--wait=60");
        assertEquals(0, defined.code(), defined.output());
        assertTrue(defined.output().contains("web: Running on t1"), defined.output());

        Commands.Result list = cli(ALICE, "list");
        assertEquals(0, list.code(), list.output());
        String[] lines = list.output().split("\n");
        assertEquals("uid 41101 gid 41101 name " + ALICE, lines[0]);
        assertTrue(lines[1].startsWith("NAME") && lines[1].contains("PHASE") && lines[1].contains("MESSAGE"));
        assertTrue(lines[1].contains("EXPIRES"), lines[1]);
        // IP: "-" until the test driver's guest agent, asked on threads of its own, has given its address
        assertTrue(lines[2].matches("web\\s+Running\\s+t1\\s+(-|\\d+\\.\\d+\\.\\d+\\.\\d+)\\s+small\\s+-\\s+running"),
                lines[2]);

        Path file = dir(ALICE).resolve("web.yaml");
        String commented = "# my web server: do not delete\n" + Files.readString(file)
                .replace("runStrategy: Always", "runStrategy: Always   # keep it up");
        Host.write(file, ALICE, commented);

        Commands.Result destroyed = cli(ALICE, "destroy", "web", "--wait=60");
        assertEquals(0, destroyed.code(), destroyed.output());
        assertEquals(commented.replace("runStrategy: Always", "runStrategy: Halted"), Files.readString(file));
        assertTrue(cli(ALICE, "status", "web").output().contains("phase:      Stopped"));

        Commands.Result started = cli(ALICE, "start", "web", "--wait=60");
        assertEquals(0, started.code(), started.output());
        assertEquals(commented, Files.readString(file));

        Commands.Result xml = cli(ALICE, "dumpxml", "web");
        assertEquals(0, xml.code(), xml.output());
        assertTrue(xml.output().contains("-->\n<domain") && xml.output().endsWith("</domain>\n"), xml.output());
        assertTrue(xml.output().contains("<name>" + ALICE + "-web</name>"), xml.output());

        Commands.Result json = cli(ALICE, "status", "web", "--output", "json");
        assertTrue(json.output().contains("\"phase\" : \"Running\""), json.output());

        Commands.Result gone = cli(ALICE, "undefine", "web", "--wait=60");
        assertEquals(0, gone.code(), gone.output());
        assertTrue(Files.exists(base.resolve("images").resolve(ALICE).resolve("web.qcow2")));
        assertTrue(cli(ALICE, "list").output().strip().endsWith("MESSAGE"));
    }

    @Test
    void anotherStudentCannotChangeTheFirstStudentsFiles() throws Exception {
        Path db = Host.write(dir(ALICE).resolve("db.yaml"), ALICE, "apiVersion: ie-virsh/v1\nkind: VirtualMachine\n"
                + "spec:\n  image: db.qcow2\n  runStrategy: Halted\n");
        String before = Files.readString(db);
        // Alice left her directory and file open to everyone: only the CLI's own check stands in the way.
        Commands.ok("chmod", "0777", dir(ALICE).toString());
        Commands.ok("chmod", "0666", db.toString());
        try {
            for (String command : List.of("start", "undefine")) {
                Commands.Result r = Commands.run(List.of("runuser", "-u", MALLORY, "--", "java", "-jar",
                        System.getProperty("ievirsh.jar"), command, "db", "--dir", dir(ALICE).toString()));
                assertEquals(1, r.code(), command + ": " + r.output());
                assertTrue(r.output().contains("belongs to uid 41101, not to you"),
                        command + ": " + r.output());
            }
            assertEquals(before, Files.readString(db));
        } finally {
            Commands.ok("chmod", "0755", dir(ALICE).toString());
            Files.deleteIfExists(db);
        }
    }

    @Test
    void friendlyFailuresSayWhatToDo() {
        Commands.Result noDir = Commands.run(List.of("runuser", "-u", ALICE, "--", "java", "-jar",
                System.getProperty("ievirsh.jar"), "list", "--dir", base.resolve("nowhere").toString()));
        assertEquals(1, noDir.code());
        assertTrue(noDir.output().contains("create it with: mkdir"), noDir.output());
        Commands.Result bad = cli(ALICE, "define", "Web_1");
        assertEquals(1, bad.code());
        assertTrue(bad.output().contains("is not valid"), bad.output());
        Commands.Result help = cli(ALICE, "define", "--help");
        assertTrue(help.output().contains("Example"), help.output());
    }

    @Test
    void listShowsHostileNamesSafelyAndSaysWhatIsWrongWithThem() throws Exception {
        Path escape = Host.write(dir(ALICE).resolve("evil\u001b[2Jname.yaml"), ALICE, "kind: x\n");
        Path upper = Host.write(dir(ALICE).resolve("Bad_Name.yaml"), ALICE, "kind: x\n");
        try {
            Commands.Result list = cli(ALICE, "list");
            assertEquals(0, list.code(), list.output());
            assertTrue(!list.output().contains("\u001b"), "no terminal escape reaches the terminal");
            assertTrue(list.output().matches("(?s).*evil\\\\x1b\\[2Jname\\.yaml\\s+Invalid.*"), list.output());
            assertTrue(list.output().matches("(?s).*Bad_Name\\.yaml\\s+Invalid.*not a valid VM name.*"), list.output());
        } finally {
            Files.delete(escape);
            Files.delete(upper);
        }
    }

    @Test
    void aHaltedVmWhoseImageIsNotUploadedYetIsWrittenAndSaysWhatIsMissing() throws Exception {
        Commands.Result lab = cli(ALICE, "define", "lab", "--halted", "--wait=60");
        try {
            assertEquals(0, lab.code(), lab.output());
            assertTrue(lab.output().contains("wrote "), lab.output());
            assertTrue(lab.output().contains("there is no lab.qcow2 in your image directory"), lab.output());
        } finally {
            Files.deleteIfExists(dir(ALICE).resolve("lab.yaml"));
        }
    }

    @Test
    void messagesSayWhatIsTrue() throws Exception {
        Commands.Result bad = cli(ALICE, "define", "Bad_Name");
        assertEquals(1, bad.code());
        assertTrue(bad.output().contains("nothing was written") && !bad.output().contains("rename the file"),
                bad.output());
        Commands.Result missing = cli(ALICE, "dumpxml", "nosuch");
        assertEquals(1, missing.code());
        assertTrue(missing.output().contains("there is no VM nosuch"), missing.output());
        Commands.Result nofile = cli(ALICE, "validate", base.resolve("nonexist.yaml").toString());
        assertEquals(1, nofile.code());
        assertTrue(nofile.output().contains("no such file"), nofile.output());
        Commands.Result templates = cli(ALICE, "templates");
        assertEquals(0, templates.code(), templates.output());
        assertTrue(templates.output().matches("(?s).*small\\s+1\\s+512MiB\\s+qcow2.*"), templates.output());
        assertTrue(templates.output().matches("(?s).*standard\\s+2\\s+2GiB\\s+qcow2\\s+1\\s+\\(default\\).*"),
                templates.output());
    }

    @Test
    void noCommandPrintsAStackTrace() throws Exception {
        Path closed = Files.createDirectories(base.resolve("closed"));
        Commands.ok("chmod", "700", closed.toString());
        Commands.Result list = Commands.run(List.of("runuser", "-u", ALICE, "--", "java", "-jar",
                System.getProperty("ievirsh.jar"), "list", "--dir", closed.toString()));
        assertEquals(1, list.code(), list.output());
        assertTrue(list.output().startsWith("ie-virsh: "), list.output());
        assertTrue(!list.output().contains("\tat ") && !list.output().contains("Exception"), list.output());

        Path big = Host.write(dir(ALICE).resolve("big.yaml"), ALICE, "apiVersion: ie-virsh/v1\nkind: VirtualMachine\n"
                + "spec:\n  image: big.qcow2\n  memory: 9999999999TiB\n");
        try {
            Commands.Result validate = cli(ALICE, "validate", big.toString());
            assertEquals(1, validate.code(), validate.output());
            assertTrue(validate.output().contains("big.yaml:5:11: spec.memory: 9999999999TiB is far too large"),
                    validate.output());
            assertTrue(!validate.output().contains("Exception"), validate.output());
        } finally {
            Files.delete(big);
        }
    }

    @Test
    void aStudentImportsAVagrantBoxAsThemselvesAndRootMayNot() throws Exception {
        Path work = Files.createDirectories(base.resolve("box-work"));
        Commands.ok("qemu-img", "create", "-q", "-f", "qcow2", work.resolve("box.img").toString(), "64M");
        Files.writeString(work.resolve("metadata.json"), "{\"provider\":\"libvirt\"}");
        Path box = base.resolve("debian.box");
        Commands.ok("tar", "-czf", box.toString(), "-C", work.toString(), "metadata.json", "box.img");
        Commands.ok("chmod", "a+r", box.toString());

        Commands.Result asRoot = Commands.run(List.of("java", "-jar", System.getProperty("ievirsh.jar"), "import-box",
                box.toString(), "--config", base.resolve("controller.yaml").toString()));
        assertEquals(1, asRoot.code(), asRoot.output());
        assertTrue(asRoot.output().contains("not as root"), asRoot.output());

        Commands.Result imported = cli(ALICE, "import-box", box.toString(), "--image", "deb.qcow2");
        assertEquals(0, imported.code(), imported.output());
        Path image = base.resolve("images").resolve(ALICE).resolve("deb.qcow2");
        assertEquals(41101, Files.getAttribute(image, "unix:uid"));
        String info = Commands.ok("qemu-img", "info", "--output=json", image.toString());
        assertTrue(info.contains("\"format\": \"qcow2\""), info);
        assertTrue(info.contains("\"virtual-size\": 67108864"), info);
        assertTrue(!info.contains("backing-filename") && !info.contains("data-file"), "one standalone file: " + info);
        Files.delete(image);
    }

    @Test
    void startUpTimeOfOneCommandIsMeasured() {
        List<Long> millis = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            long t0 = System.nanoTime();
            assertEquals(0, cli(ALICE, "list").code());
            millis.add(Duration.ofNanos(System.nanoTime() - t0).toMillis());
        }
        millis.sort(null);
        System.out.println("BENCH cli-startup: ie-virsh list, median of 5 runs as a student: " + millis.get(2) + " ms"
                + " (all: " + millis + ")");
    }

    @Test
    void everyFailurePathHasItsExitCodeAndSaysWhy() throws Exception {
        Host.image(base.resolve("images").resolve(ALICE), ALICE, "fp.qcow2");
        try {
            // --image and --halted are what the file says; --wait returns once it is so.
            Commands.Result defined = cli(ALICE, "define", "fp", "--image", "fp.qcow2", "--halted", "--wait=60");
            assertEquals(0, defined.code(), defined.output());
            assertTrue(defined.output().contains("fp: Stopped on t1"), defined.output());
            String file = Files.readString(dir(ALICE).resolve("fp.yaml"));
            assertTrue(file.contains("image: fp.qcow2") && file.contains("runStrategy: Halted"), file);

            Commands.Result again = cli(ALICE, "define", "fp", "--template", "small");
            assertEquals(1, again.code(), again.output());
            assertTrue(again.output().contains("fp.yaml already exists; edit it, or ie-virsh undefine fp first"),
                    again.output());
            assertEquals(file, Files.readString(dir(ALICE).resolve("fp.yaml")), "not overwritten");

            // A change the controller refuses: --wait exits 1 with the status's message.
            Host.write(dir(ALICE).resolve("fp.yaml"), ALICE, file.replace("runStrategy: Halted",
                    "runStrategy: Halted\n  memory: 64GiB"));
            Commands.Result invalid = cli(ALICE, "start", "fp", "--wait=60");
            assertEquals(1, invalid.code(), invalid.output());
            assertTrue(invalid.output().matches("(?s).*fp: Invalid: fp\\.yaml:\\d+:\\d+: spec\\.memory: 64GiB exceeds.*"),
                    invalid.output());

            // Over quota (mallory may have one VM): exit 1, QuotaExceeded and why.
            Host.image(base.resolve("images").resolve(MALLORY), MALLORY, "one.qcow2");
            Host.image(base.resolve("images").resolve(MALLORY), MALLORY, "two.qcow2");
            assertEquals(0, cli(MALLORY, "define", "one", "--image", "one.qcow2", "--halted", "--wait=60").code());
            Commands.Result over = cli(MALLORY, "define", "two", "--image", "two.qcow2", "--halted", "--wait=60");
            assertEquals(1, over.code(), over.output());
            assertTrue(over.output().contains("two: QuotaExceeded: "), over.output());

            // No controller watches this directory: --wait gives up with exit 3 and says what it saw.
            Path unwatched = Files.createDirectories(base.resolve("unwatched"));
            Commands.ok("chown", ALICE + ":" + ALICE, unwatched.toString());
            Commands.Result timeout = Commands.run(List.of("runuser", "-u", ALICE, "--", "java", "-jar",
                    System.getProperty("ievirsh.jar"), "define", "lone", "--dir", unwatched.toString(), "--wait=1",
                    "--config", base.resolve("controller.yaml").toString()));
            assertEquals(3, timeout.code(), timeout.output());
            assertTrue(timeout.output().contains("timed out after 1s") && timeout.output()
                    .contains("is the controller running?"), timeout.output());

            // Wrong usage is exit 2 with the usage; status without a name prints every VM.
            for (List<String> usage : List.of(List.of("define"), List.of("frobnicate"), List.of("list", "--bogus"))) {
                Commands.Result r = cli(ALICE, usage.toArray(String[]::new));
                assertEquals(2, r.code(), usage + ": " + r.output());
                assertTrue(r.output().contains("Usage: ie-virsh") && r.output().contains("--help tells more"),
                        usage + ": " + r.output());
            }
            Commands.Result all = cli(ALICE, "status");
            assertEquals(0, all.code(), all.output());
            assertTrue(all.output().contains("fp (" + ALICE + ", uid 41101)"), all.output());
        } finally {
            Files.deleteIfExists(dir(ALICE).resolve("fp.yaml"));
            Files.deleteIfExists(dir(MALLORY).resolve("one.yaml"));
            Files.deleteIfExists(dir(MALLORY).resolve("two.yaml"));
        }
    }
}
