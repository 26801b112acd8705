package org.ievirsh.reconcile;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.blade.Blade;
import org.ievirsh.blade.Fleet;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.libvirt.DomainState;
import org.ievirsh.libvirt.FakeBladeLink;
import org.ievirsh.libvirt.FakeHypervisor;
import org.ievirsh.libvirt.StopReason;
import org.ievirsh.posix.FileStat;
import org.ievirsh.posix.SafeDir;
import org.ievirsh.users.Owner;
import org.ievirsh.users.UserIndex;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** QuietUserTest: what a clean pass rested on still holds only while every part of it is as it was. */
class QuietUserTest {
    private static final long LATER = 3_000_000_000L;

    @TempDir
    Path tmp;
    Path dir;
    Path file;
    Fleet fleet;
    Blade blade;
    UserIndex.Entry entry;

    @BeforeEach
    void setUp() throws Exception {
        dir = Files.createDirectory(tmp.resolve("ie-virsh"));
        file = Files.writeString(dir.resolve("web.yaml"), "runStrategy: Halted\n");
        blade = new Blade(new ControllerConfig.Blade("b1", "fake:///b1", true, ControllerConfig.Resources.NONE,
                ControllerConfig.Capacity.REPORTED), new FakeBladeLink(new FakeHypervisor("b1")));
        fleet = new Fleet(List.of(blade));
        entry = new UserIndex.Entry(dir, 1001, new Owner("alice", 1001, 1001, List.of(), 1001, 1001));
    }

    private static Optional<FileStat> stat(Path path) throws Exception {
        try (SafeDir parent = SafeDir.openTrusted(path.getParent())) {
            return parent.stat(path.getFileName().toString());
        }
    }

    /** A pass that started {@code after} ns after now, resting on the directory and the file. */
    private QuietUser.Builder pass(long after) throws Exception {
        return new QuietUser.Builder(entry, System.currentTimeMillis() * 1_000_000L + after, 7, 3, 5)
                .file(dir, stat(dir)).file(file, stat(file)).file(dir.resolve(".status"), Optional.empty());
    }

    private static final java.time.Instant NOW = java.time.Instant.parse("2026-12-01T12:00:00Z");

    private static ObservedDomain domain(DomainState state) {
        return new ObservedDomain("b1", "11111111-2222-8333-8444-555555555555", "alice-web", state,
                StopReason.UNKNOWN, PlannerFixture.metadata("sha256:r"), Optional.empty(), false);
    }

    @Test
    void aStatTakenWithinTwoSecondsOfItsChangeIsNotTrusted() throws Exception {
        assertTrue(pass(0).build().isEmpty(), "the file was just written");
        assertTrue(pass(LATER).build().isPresent());
    }

    @Test
    void holdsWhileNothingChanged() throws Exception {
        QuietUser quiet = pass(LATER).build().orElseThrow();
        assertTrue(quiet.holds(entry, fleet, 7, 3, 5, NOW));
        assertTrue(quiet.holds(new UserIndex.Entry(dir, 1001, new Owner("alice", 1001, 1001, List.of(), 1001, 1001)),
                fleet, 7, 3, 5, NOW), "an equal entry");
    }

    @Test
    void aFileRewrittenInPlaceEndsIt() throws Exception {
        QuietUser quiet = pass(LATER).build().orElseThrow();
        Files.writeString(file, "runStrategy: Always\n");
        assertFalse(quiet.holds(entry, fleet, 7, 3, 5, NOW));
    }

    @Test
    void aFileReplacedByALinkEndsIt() throws Exception {
        QuietUser quiet = pass(LATER).build().orElseThrow();
        Path elsewhere = Files.move(file, tmp.resolve("elsewhere.yaml"));
        Files.createSymbolicLink(file, elsewhere);
        assertFalse(quiet.holds(entry, fleet, 7, 3, 5, NOW));
    }

    @Test
    void somethingWhereNothingWasEndsIt() throws Exception {
        QuietUser quiet = pass(LATER).build().orElseThrow();
        Files.createDirectory(dir.resolve(".status"));
        assertFalse(quiet.holds(entry, fleet, 7, 3, 5, NOW));
    }

    @Test
    void otherAddressesOrTheMomentAVmExpiresEndIt() throws Exception {
        QuietUser quiet = pass(LATER).until(Optional.of(NOW.plusSeconds(60))).build().orElseThrow();
        assertTrue(quiet.holds(entry, fleet, 7, 3, 5, NOW.plusSeconds(59)));
        assertFalse(quiet.holds(entry, fleet, 7, 3, 6, NOW), "an address changed");
        assertFalse(quiet.holds(entry, fleet, 7, 3, 5, NOW.plusSeconds(60)), "the VM's expiry came");
    }

    @Test
    void otherTemplatesInspectionsOrIdentityEndIt() throws Exception {
        QuietUser quiet = pass(LATER).build().orElseThrow();
        assertFalse(quiet.holds(entry, fleet, 8, 3, 5, NOW), "a template changed");
        assertFalse(quiet.holds(entry, fleet, 7, 4, 5, NOW), "a look inside an image ended");
        assertFalse(quiet.holds(new UserIndex.Entry(dir, 1001, new Owner("alice", 1001, 1001, List.of("lab"), 1001,
                1001)), fleet, 7, 3, 5, NOW), "alice is in another group now");
    }

    @Test
    void aDomainThatChangedOrAppearedEndsIt() throws Exception {
        ObservedDomain running = domain(DomainState.RUNNING);
        blade.view().put(running);
        QuietUser quiet = pass(LATER).domains(List.of(running), new boolean[] {false}).build().orElseThrow();
        assertTrue(quiet.holds(entry, fleet, 7, 3, 5, NOW));
        blade.view().put(domain(DomainState.RUNNING));
        assertTrue(quiet.holds(entry, fleet, 7, 3, 5, NOW), "the same news again");
        blade.view().put(domain(DomainState.SHUTOFF));
        assertFalse(quiet.holds(entry, fleet, 7, 3, 5, NOW));

        QuietUser none = pass(LATER).build().orElseThrow();
        assertFalse(none.holds(entry, fleet, 7, 3, 5, NOW), "a domain appeared");
    }

    @Test
    void anUnknownStatEndsItBeforeItStarts() throws Exception {
        assertTrue(pass(LATER).file(dir.resolve("images"), null).build().isEmpty());
        assertTrue(pass(LATER).files(null, Set.of()).build().isEmpty());
        assertTrue(pass(LATER).untold().build().isEmpty());
    }

    @Test
    void theDirectorySwappedForACopyOrALinkToOneEndsIt() throws Exception {
        QuietUser quiet = pass(LATER).build().orElseThrow();
        Path away = Files.move(dir, tmp.resolve("away"));
        Path copy = Files.createDirectory(tmp.resolve("copy"));
        Files.copy(away.resolve("web.yaml"), copy.resolve("web.yaml"),
                java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        Files.createSymbolicLink(dir, away);
        assertFalse(quiet.holds(entry, fleet, 7, 3, 5, NOW), "a link to the very directory");
        Files.delete(dir);
        Files.move(copy, dir);
        assertFalse(quiet.holds(entry, fleet, 7, 3, 5, NOW), "another directory with a copy of the file");
    }

    @Test
    void filesLookedForInADirectoryThatIsNotThereHoldUntilItComes() throws Exception {
        Path images = tmp.resolve("images").resolve("alice");
        QuietUser quiet = pass(LATER).file(images.resolve("web.qcow2"), Optional.empty()).build().orElseThrow();
        assertTrue(quiet.holds(entry, fleet, 7, 3, 5, NOW));
        Files.createDirectories(images);
        assertTrue(quiet.holds(entry, fleet, 7, 3, 5, NOW), "still no image there");
        Files.writeString(images.resolve("web.qcow2"), "x");
        assertFalse(quiet.holds(entry, fleet, 7, 3, 5, NOW));
    }

    @Test
    void aRunningVmsDiskCountsByWhichFileItIsNotByItsContent() throws Exception {
        Path images = Files.createDirectories(tmp.resolve("images").resolve("alice"));
        Path disk = Files.writeString(images.resolve("web.qcow2"), "blocks");
        QuietUser quiet = pass(LATER).files(Map.of(disk, stat(disk)), Set.of(disk)).build().orElseThrow();
        Files.writeString(disk, "more blocks, written by the guest", java.nio.file.StandardOpenOption.APPEND);
        assertTrue(quiet.holds(entry, fleet, 7, 3, 5, NOW), "QEMU wrote the disk");
        Files.setPosixFilePermissions(disk, java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw-rw-"));
        assertFalse(quiet.holds(entry, fleet, 7, 3, 5, NOW), "its mode changed");

        QuietUser again = pass(LATER).files(Map.of(disk, stat(disk)), Set.of(disk)).build().orElseThrow();
        Path other = Files.writeString(images.resolve("other.qcow2"), "another image");
        Files.move(other, disk, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertFalse(again.holds(entry, fleet, 7, 3, 5, NOW), "another file under its name");

        QuietUser stopped = pass(LATER).files(Map.of(disk, stat(disk)), Set.of()).build().orElseThrow();
        Files.writeString(disk, "written while it does not run", java.nio.file.StandardOpenOption.APPEND);
        assertFalse(stopped.holds(entry, fleet, 7, 3, 5, NOW), "the disk of a VM that does not run changed");
    }
}
