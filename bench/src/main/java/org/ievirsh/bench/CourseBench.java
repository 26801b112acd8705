package org.ievirsh.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.controller.Controller;
import org.ievirsh.image.EmptyQcow2;
import org.ievirsh.image.AsStudent;
import org.ievirsh.libvirt.EventLoop;
import org.ievirsh.libvirt.LibvirtBladeLink;
import org.ievirsh.metrics.Metrics;
import org.ievirsh.posix.Nss;
import org.ievirsh.template.DomainIdentity;
import org.ievirsh.template.DomainRenderer;
import org.ievirsh.template.Template;
import org.ievirsh.users.NssOwners;
import org.libvirt.Connect;
import org.libvirt.Domain;

/**
 * CourseBench measures the course promise of docs/performance.md: a course
 * of N real accounts provisioned by the controller (each student's file
 * written as them into a directory made as them, a disk made from the
 * course's base as them, the VM defined and started), from the reload that
 * adds the course to the last VM started, beside a plain loop doing the same
 * work one student after the other (the file and the disk as the student
 * through setpriv, define, start). Goal: at most 1.5 times the loop.
 */
final class CourseBench {
    private static final String PREFIX = "ievcb";
    private static final int UID = 46200;
    private static final int GID = 100;
    private static final Duration LIMIT = Duration.ofMinutes(20);

    private CourseBench() {
    }

    static int run(String uri, int students, PrintStream out) throws Exception {
        EventLoop.ensureStarted();
        boolean test = uri.startsWith("test:");
        Path bases = Files.createTempDirectory(Path.of("/run"), "ie-virsh-bench-bases-");
        Files.setPosixFilePermissions(bases, PosixFilePermissions.fromString("rwxr-xr-x"));
        String xml = test ? BenchTemplates.testDriver() : BenchTemplates.kvmWithoutNetwork();
        String group = Nss.groupName(GID).orElseThrow(() -> new IOException("no group " + GID + " here"));
        double plainSeconds;
        double controllerSeconds;
        try (BenchWorld world = new BenchWorld(xml);
             Accounts accounts = Accounts.create(PREFIX, students, UID, world.root().resolve("home"))) {
            Path base = bases.resolve("course-base.qcow2");
            Files.write(base, EmptyQcow2.of(64L << 20));
            Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rw-r--r--"));
            for (Path p : List.of(world.root(), world.root().resolve("home"), world.root().resolve("images"))) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx--x--x"));
            }
            for (int u = 0; u < students; u++) {
                // A home and an image directory, the student's (the admin makes the latter); no ie-virsh yet.
                String user = Accounts.name(PREFIX, u);
                for (Path p : List.of(world.root().resolve("home").resolve(user),
                        world.root().resolve("images").resolve(user))) {
                    Files.createDirectories(p);
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
                    chown(p, UID + u, GID);
                }
            }
            out.printf("course: %d students (real accounts, group %s) on %s%n", students, group, uri);
            Template template = Template.parse("bench", xml.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            Connect connect = new Connect(uri);
            try {
                plainLoop(world, template, connect, base, Math.min(5, students), "warm");  // qemu-img and libvirt warm
                removeDomains(connect, "-warm");
                long t0 = System.nanoTime();
                plainLoop(world, template, connect, base, students, "plain");
                awaitStarted(connect, "-plain", students);
                plainSeconds = (System.nanoTime() - t0) / 1e9;
                removeDomains(connect, "-plain");

                String course = "courses:\n  bench:\n    students: " + group + "\n"
                        + "    quota: {vms: 1, runningVms: 1, vcpus: 2, memory: 1GiB}\n"
                        + "    vms:\n      lab: {baseImage: course-base, template: bench, runStrategy: Always}\n";
                String common = "baseImages: {root: " + bases + "}\nresync: 30s\n";
                ControllerConfig without = world.config(uri, UID, common);
                ControllerConfig with = world.config(uri, UID, common + course);
                Controller controller = new Controller(without, new NssOwners(),
                        b -> new LibvirtBladeLink(b.name(), b.uri()),
                        new Metrics(new io.micrometer.core.instrument.simple.SimpleMeterRegistry()), Clock.systemUTC());
                controller.start();
                try {
                    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                    while (!controller.ready() && System.nanoTime() < deadline) {
                        Thread.sleep(50);
                    }
                    long t1 = System.nanoTime();
                    controller.reconfigure(with);
                    awaitStarted(connect, "-bench-lab", students);
                    controllerSeconds = (System.nanoTime() - t1) / 1e9;
                    int files = 0;
                    for (int u = 0; u < students; u++) {
                        files += Files.exists(world.dir(Accounts.name(PREFIX, u)).resolve("bench-lab.yaml")) ? 1 : 0;
                    }
                    out.printf("course  files written as the students: %d of %d%n", files, students);
                } finally {
                    controller.close();
                }
                removeDomains(connect, "-bench-lab");
            } finally {
                connect.close();
            }
        } finally {
            try (var walk = Files.walk(bases)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
        out.printf("course  plain loop (file and disk as each student, define, start): %.2f s  (%.1f ms a student)%n",
                plainSeconds, plainSeconds * 1000 / students);
        out.printf("course  controller, from the reload that adds the course to the last VM started: %.2f s"
                + "  (%.1f ms a student)%n", controllerSeconds, controllerSeconds * 1000 / students);
        out.printf("course  controller / plain loop: %.2f (goal <= 1.5)%n", controllerSeconds / plainSeconds);
        return Promise.report(out, "course: a course provisioned in at most 1.5 times a plain loop",
                controllerSeconds / plainSeconds <= 1.5);
    }

    /**
     * The baseline: for each student, their file (in a directory of theirs
     * the controller does not read) and disk as them, then define and
     * start, one after the other.
     */
    private static void plainLoop(BenchWorld world, Template template, Connect connect, Path base, int students,
                                  String vm) throws Exception {
        for (int u = 0; u < students; u++) {
            String user = Accounts.name(PREFIX, u);
            Path home = world.root().resolve("home").resolve(user);
            AsStudent.Result file = AsStudent.run(UID + u, GID, Path.of("/"), "mkdir -p -- \"$1\" && printf '%s' \"$2\""
                    + " > \"$1/$3.yaml\"", List.of(home.resolve("plain").toString(), "apiVersion: ie-virsh/v1\n"
                    + "kind: VirtualMachine\nspec:\n  baseImage: course-base\n", vm), Map.of(), 4096,
                    Duration.ofSeconds(30));
            Path disk = world.root().resolve("images").resolve(user).resolve(vm + ".qcow2");
            AsStudent.Result made = AsStudent.exec(UID + u, GID, Path.of("/"), List.of("qemu-img", "create", "-q",
                    "-f", "qcow2", "-b", base.toString(), "-F", "qcow2", disk.toString()), Map.of(), 4096,
                    Duration.ofSeconds(30));
            if (!file.ok() || !made.ok()) {
                throw new IOException("as " + user + ": " + file.text() + made.text());
            }
            String name = user + "-" + vm;
            DomainIdentity identity = new DomainIdentity(name, DomainIdentity.uuidFor(user, UID + u, name),
                    DomainIdentity.macsFor(user, UID + u, name, template.nics(), m -> false));
            String xml = DomainRenderer.render(new DomainRenderer.Input(template, user, UID + u,
                    new DomainRenderer.RunAs(UID + u, GID), vm, identity, 1, 128L << 20, disk.toString(), "sha256:0",
                    Optional.empty())).xml();
            Domain d = connect.domainDefineXML(xml);
            d.create();
            d.free();
        }
    }

    private static void awaitStarted(Connect connect, String suffix, int count) throws Exception {
        long deadline = System.nanoTime() + LIMIT.toNanos();
        while (System.nanoTime() < deadline) {
            int running = 0;
            for (Domain d : connect.listAllDomains(1)) {  // VIR_CONNECT_LIST_DOMAINS_ACTIVE
                running += d.getName().endsWith(suffix) ? 1 : 0;
                d.free();
            }
            if (running >= count) {
                return;
            }
            Thread.sleep(10);
        }
        throw new IOException("fewer than " + count + " domains *" + suffix + " started within " + LIMIT);
    }

    private static void removeDomains(Connect connect, String suffix) throws Exception {
        for (Domain d : connect.listAllDomains(0)) {
            if (d.getName().endsWith(suffix)) {
                if (d.isActive() == 1) {
                    d.destroy();
                }
                d.undefine();
            }
            d.free();
        }
    }

    /** Gives a directory the bench made as root to a student. */
    private static void chown(Path path, int uid, int gid) throws IOException {
        Files.setAttribute(path, "unix:uid", uid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(path, "unix:gid", gid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }
}
