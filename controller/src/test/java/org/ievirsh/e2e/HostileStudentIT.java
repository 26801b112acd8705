package org.ievirsh.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.controller.Controller;
import org.ievirsh.image.Inspections;
import org.ievirsh.image.guest.GuestInspector;
import org.ievirsh.image.guest.Sandbox;
import org.ievirsh.libvirt.LibvirtBladeLink;
import org.ievirsh.metrics.Metrics;
import org.ievirsh.posix.FileStat;
import org.ievirsh.posix.Lstat;
import org.ievirsh.support.Commands;
import org.ievirsh.support.Statuses;
import org.ievirsh.template.DomainIdentity;
import org.ievirsh.template.DomainRenderer;
import org.ievirsh.template.Template;
import org.ievirsh.users.NssOwners;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * HostileStudentIT is the security issue's attacks made into tests, on the
 * real libvirtd with QEMU, real users, and a watch on every process's open
 * files: a student who flips their image's header in a page they keep
 * mapped (a data file, a backing file naming a root-only file), and one who
 * swaps their image for a link to another student's while a start is asked
 * for. Whatever the attack, no process may ever open the file it aims at,
 * and no file may change owner.
 */
@EnabledIfSystemProperty(named = "ievirsh.e2e", matches = "true")
class HostileStudentIT {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String MALLORY = "ievmallory";
    private static final String VICTIM = "ievvictim";
    private static final Host HOST = new Host();

    @TempDir
    static Path tmp;
    static Path secret;
    Controller controller;

    @BeforeAll
    static void users() throws Exception {
        Host.openToAll(tmp);
        Path homes = Files.createDirectories(tmp.resolve("home"));
        HOST.user(MALLORY, 41501, homes);
        HOST.user(VICTIM, 41502, homes);
        // The template of these tests boots no OS: QEMU opens the disk when it starts, which is all that matters.
        Path templates = Files.createDirectories(tmp.resolve("templates"));
        Files.writeString(templates.resolve("tiny.xml"), TINY);
        secret = Files.writeString(tmp.resolve("root-only-secret"), "root:$6$secret\n");
        Commands.ok("chmod", "600", secret.toString());
    }

    private static final String TINY = "<domain type='" + Host.domainType()
            + "'><memory unit='MiB'>128</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type>"
            + "<boot dev='hd'/></os><features><acpi/></features><devices><disk type='file' device='disk'>"
            + "<driver name='qemu' type='qcow2'/><target dev='vda' bus='virtio'/></disk></devices></domain>";

    @AfterAll
    static void removeUsers() {
        HOST.deleteUsers();
    }

    @AfterEach
    void stop() {
        if (controller != null) {
            controller.close();
        }
        Host.removeDomains("iev");
    }

    private void start(String inspection) {
        String yaml = "users:\n  directories: " + tmp.resolve("home") + "/*/ie-virsh\n  minUid: 1000\n"
                + "images:\n  inspection: " + inspection + "\n  root: " + tmp.resolve("images")
                + "\n  inspectionCache: " + Host.INSPECTION_CACHE + "\n"
                + "templates: " + tmp.resolve("templates") + "\ndefaultTemplate: tiny\n"
                + "blades:\n  - {name: local, uri: \"qemu:///system\", capacity: {vcpus: 64, memory: 256GiB}}\n"
                + "http: {listen: \"127.0.0.1:0\"}\nresync: 2s\nstopGracePeriod: 1s\n";
        controller = new Controller(ControllerConfig.parse("e2e.yaml", yaml.getBytes(StandardCharsets.UTF_8))
                .orThrow(), new NssOwners(), b -> new LibvirtBladeLink(b.name(), b.uri()),
                new Metrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)), Clock.systemUTC());
        controller.start();
    }

    private static Path dir(String user) {
        return tmp.resolve("home").resolve(user).resolve("ie-virsh");
    }

    private static void vm(String user, String name, String image, String strategy) throws Exception {
        Host.write(dir(user).resolve(name + ".yaml"), user, "apiVersion: ie-virsh/v1\nkind: VirtualMachine\n"
                + "spec:\n  image: " + image + "\n  runStrategy: " + strategy + "\n");
    }

    private static Path image(String user, String name) throws Exception {
        Path image = Host.image(tmp.resolve("images").resolve(user), user, name);
        Commands.ok("chmod", "600", image.toString());
        return image;
    }

    private static VmStatus awaitPhase(String user, String vm, Phase phase) {
        return Statuses.awaitPhase(dir(user), vm, phase, WAIT);
    }

    /** Waits for {@code count} more full passes: what the controller was to see by then, it saw. */
    private void passes(int count) {
        int target = controller.passesCompleted() + count;
        await().atMost(WAIT).until(() -> controller.passesCompleted() >= target);
    }

    private static FileStat stat(Path file) throws Exception {
        return new Lstat(file).now().orElseThrow();
    }

    @Test
    void aDataFileFlippedIntoAStillDirtyMappedPageIsNeverOpened() throws Exception {
        Path image = image(MALLORY, "flip.qcow2");
        start("off");
        vm(MALLORY, "flip", "flip.qcow2", "Halted");
        awaitPhase(MALLORY, "flip", Phase.Stopped);
        try (OpenFiles watch = new OpenFiles(Set.of(secret));
             Hostile.MappedHeader header = new Hostile.MappedHeader(image)) {
            header.dirty();
            // The controller looks at the image again (its times moved) and finds its header clean.
            passes(2);
            FileStat checked = stat(image);
            header.nameDataFile(secret.toString());
            assertEquals(checked, stat(image), "the flip leaves size and times as the controller last saw them");
            vm(MALLORY, "flip", "flip.qcow2", "Always");
            VmStatus refused = awaitPhase(MALLORY, "flip", Phase.ImageRejected);
            assertEquals("ExternalDataFile", refused.condition("ImageReady").reason(), refused.message());
            passes(2);
            assertEquals(List.of(), watch.caught(), "no process opened the root-only file");
            assertTrue(watch.sweeps() > 10, "the watch looked");
        }
        assertTrue(!Host.state(MALLORY + "-flip").equals("running"), "the VM did not start");
        assertEquals(41501, stat(image).uid(), "the image is still its student's");
        assertEquals(0, stat(secret).uid());
    }

    @Test
    void evenWithAHeaderNobodyCheckedQemuRunsAsTheStudentAndCannotOpenARootOnlyFile() throws Exception {
        Path image = image(MALLORY, "direct.qcow2");
        try (Hostile.MappedHeader header = new Hostile.MappedHeader(image)) {
            header.dirty();
            header.nameDataFile(secret.toString());
        }
        Template tiny = Template.parse("tiny", TINY.getBytes(StandardCharsets.UTF_8));
        String xml = DomainRenderer.render(new DomainRenderer.Input(tiny, MALLORY, 41501,
                new DomainRenderer.RunAs(41501, 41501), "direct", new DomainIdentity("ievmallory-direct",
                DomainIdentity.uuidFor(MALLORY, 41501, "direct"), List.of()), 1, 128L << 20, image.toString(),
                "sha256:0", java.util.Optional.empty())).xml();
        Path file = Files.writeString(tmp.resolve("direct.xml"), xml);
        try (OpenFiles watch = new OpenFiles(Set.of(secret))) {
            Host.virsh("define", file.toString());
            Commands.Result started = Commands.run(List.of("virsh", "-q", "-c", Host.SYSTEM, "start",
                    "ievmallory-direct"));
            assertTrue(started.code() != 0, "QEMU, run as the student, cannot start on a root-only data file");
            assertTrue(started.output().contains("Permission denied"), started.output());
            assertEquals(List.of(), watch.caught());
        }
        assertEquals(41501, stat(image).uid(), "libvirt changed no file's owner");
        assertEquals(0, stat(secret).uid());
    }

    @Test
    void aSymlinkSwappedInDuringTheStartNeverReachesAnotherStudentsImage() throws Exception {
        Path theirs = image(VICTIM, "theirs.qcow2");
        Path mine = image(MALLORY, "race.qcow2");
        Path link = tmp.resolve("images").resolve(MALLORY).resolve("race-link");
        Files.createSymbolicLink(link, theirs);
        FileStat before = stat(theirs);
        start("off");
        vm(MALLORY, "race", "race.qcow2", "Halted");
        awaitPhase(MALLORY, "race", Phase.Stopped);
        try (OpenFiles watch = new OpenFiles(Set.of(theirs))) {
            for (int attempt = 0; attempt < 20; attempt++) {
                AtomicBoolean swapping = new AtomicBoolean(true);
                Thread swapper = new Thread(() -> {
                    boolean swapped = false;
                    while (swapping.get()) {
                        Hostile.exchange(mine, link);
                        swapped = !swapped;
                        try {
                            Thread.sleep(0, ThreadLocalRandom.current().nextInt(200_000, 999_999));
                            if (ThreadLocalRandom.current().nextInt(4) == 0) {
                                Thread.sleep(ThreadLocalRandom.current().nextInt(1, 3));
                            }
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                    if (swapped) {
                        Hostile.exchange(mine, link);
                    }
                });
                vm(MALLORY, "race", "race.qcow2", "Always");
                swapper.start();
                // Swap until QEMU was started once: it runs (on the student's own image), or its start failed (it
                // met the other student's image through the link, and could not open it). A start may wait out
                // the limit of starts per minute meanwhile.
                await().atMost(Duration.ofSeconds(90)).until(() -> Host.state(MALLORY + "-race").equals("running")
                        || Statuses.read(dir(MALLORY), "race").map(st -> st.phase() == Phase.Error).orElse(false));
                swapping.set(false);
                swapper.join();
                assertTrue(Files.isRegularFile(mine, LinkOption.NOFOLLOW_LINKS), "the swapper put the image back");
                vm(MALLORY, "race", "race.qcow2", "Halted");
                await().atMost(WAIT).until(() -> !Host.state(MALLORY + "-race").equals("running"));
            }
            assertEquals(List.of(), watch.caught(), "no process opened the other student's image");
            assertTrue(watch.sweeps() > 100, "the watch looked");
        }
        FileStat after = stat(theirs);
        assertEquals(before.uid(), after.uid(), "the other student's image is still theirs");
        assertEquals(before.mode(), after.mode());
        assertEquals(41501, stat(mine).uid());
    }

    @Test
    void aBackingFileFlippedInBeforeTheLookIsNeverOpenedByTheAppliance() throws Exception {
        Path image = image(MALLORY, "look.qcow2");
        start("enforce");
        vm(MALLORY, "look", "look.qcow2", "Halted");
        awaitPhase(MALLORY, "look", Phase.Stopped);
        try (OpenFiles watch = new OpenFiles(Set.of(secret));
             Hostile.MappedHeader header = new Hostile.MappedHeader(image)) {
            header.dirty();
            passes(2);
            FileStat checked = stat(image);
            header.nameBackingFile(secret.toString());
            assertEquals(checked, stat(image));
            vm(MALLORY, "look", "look.qcow2", "Always");
            VmStatus refused = awaitPhase(MALLORY, "look", Phase.ImageRejected);
            assertEquals("BackingFile", refused.condition("ImageReady").reason(), refused.message());
            assertEquals(List.of(), watch.caught());
        }
        assertTrue(!Host.state(MALLORY + "-look").equals("running"), "the VM did not start");
    }

    @Test
    void theLookItselfRunsAsTheStudentAndCannotOpenARootOnlyBackingFile() throws Exception {
        Path image = image(MALLORY, "behind.qcow2");
        try (Hostile.MappedHeader header = new Hostile.MappedHeader(image)) {
            header.dirty();
            header.nameBackingFile(secret.toString());
        }
        // As root, QEMU's tools follow the header to the root-only file: the attack is real.
        assertTrue(Commands.ok("qemu-img", "info", "--backing-chain", image.toString()).contains(secret.toString()));
        Sandbox sandbox = new Sandbox(Host.INSPECTION_CACHE, Inspections.backendSettings());
        sandbox.prepare();
        try (OpenFiles watch = new OpenFiles(Set.of(secret))) {
            Exception failed = org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
                    () -> new GuestInspector(sandbox).inspect(image.toString(), "qcow2", 41501, 41501, kill -> { }));
            assertTrue(failed.getMessage().contains("could not open the disk"), failed.getMessage());
            assertEquals(List.of(), watch.caught(), "the appliance, run as the student, never opened it");
        }
        // As the student, the same tool cannot open it at all.
        Commands.Result asStudent = Commands.run(List.of("setpriv", "--reuid=41501", "--regid=41501",
                "--clear-groups", "qemu-img", "info", "--backing-chain", image.toString()));
        assertTrue(asStudent.code() != 0 && asStudent.output().contains("Permission denied"), asStudent.output());
    }
}
