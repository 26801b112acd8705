package org.ievirsh.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.ievirsh.support.Commands;
import org.ievirsh.support.Root;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** ImageCheckerTest builds real images with qemu-img (no committed binaries) and hostile file trees. */
class ImageCheckerTest {
    private static final int UID = 0;

    @TempDir
    Path root;
    Path images;
    ImageChecker checker;

    @BeforeEach
    void setUp() throws IOException {
        Root.require();
        images = Files.createDirectories(root.resolve("alice"));
        checker = new ImageChecker(root);
    }

    private Path qemuImg(String name, String... options) {
        Path image = images.resolve(name);
        String[] command = Stream.concat(Stream.of("qemu-img", "create", "-q", "-f", "qcow2"),
                Stream.concat(Stream.of(options), Stream.of(image.toString(), "64M"))).toArray(String[]::new);
        Commands.ok(command);
        return image;
    }

    private ImageVerdict check(String name) {
        return checker.check("alice", UID, name, "qcow2");
    }

    @Test
    void aStandaloneQcow2IsAccepted() {
        qemuImg("v3.qcow2");
        qemuImg("v2.qcow2", "-o", "compat=0.10");
        assertTrue(check("v3.qcow2").accepted(), check("v3.qcow2").message());
        assertTrue(check("v2.qcow2").accepted(), check("v2.qcow2").message());
        assertEquals(images.resolve("v3.qcow2").toString(), check("v3.qcow2").path());
    }

    @Test
    void aFreshImageIsBlankUntilSomethingIsWrittenToIt() throws Exception {
        Path image = qemuImg("fresh.qcow2");
        Commands.ok("chown", UID + ":" + UID, image.toString());
        ImageVerdict fresh = check("fresh.qcow2");
        assertTrue(fresh.accepted() && fresh.blank(), fresh.toString());
        Thread.sleep(10);  // a new modification time, as any write brings
        Commands.ok("qemu-io", "-f", "qcow2", "-c", "write -P 0xab 1M 4k", image.toString());
        ImageVerdict written = check("fresh.qcow2");
        assertTrue(written.accepted() && !written.blank(), "one cluster of data: looked at again " + written);
        assertNotEquals(fresh.version(), written.version());
        // An image with an internal snapshot, whose own table may map data, is not blank either.
        Path snap = qemuImg("snap.qcow2");
        Commands.ok("qemu-img", "snapshot", "-c", "s1", snap.toString());
        Commands.ok("chown", UID + ":" + UID, snap.toString());
        assertFalse(check("snap.qcow2").blank());
    }

    @Test
    void theDemosEmptyImageIsAValidQcow2() throws IOException {
        Path image = images.resolve("demo.qcow2");
        Files.write(image, EmptyQcow2.of(1L << 30));
        String info = Commands.ok("qemu-img", "check", "-f", "qcow2", image.toString());
        assertTrue(info.contains("No errors were found"), info);
        assertTrue(Commands.ok("qemu-img", "info", image.toString()).contains("virtual size: 1 GiB"));
        assertTrue(check("demo.qcow2").accepted());
    }

    static Stream<Arguments> hostileImages() {
        return Stream.of(
                Arguments.of("absolute backing file", new String[] {"-b", "/etc/shadow", "-F", "raw", "-u"},
                        "BackingFile", "it names a backing file (/etc/shadow)"),
                Arguments.of("relative backing file", new String[] {"-b", "../bob/web.qcow2", "-F", "qcow2", "-u"},
                        "BackingFile", "../bob/web.qcow2"),
                Arguments.of("json backing file",
                        new String[] {"-b", "json:{\"file.driver\":\"file\",\"file.filename\":\"/etc/shadow\"}",
                                "-F", "raw", "-u"}, "BackingFile", "json:"),
                Arguments.of("nbd backing file", new String[] {"-b", "nbd://192.0.2.1/x", "-F", "raw", "-u"},
                        "BackingFile", "nbd://"),
                Arguments.of("version 2 with a backing file",
                        new String[] {"-o", "compat=0.10", "-b", "/etc/passwd", "-F", "raw", "-u"},
                        "BackingFile", "/etc/passwd"),
                Arguments.of("external data file", new String[] {"-o", "data_file=/tmp/ievirsh-test-data"},
                        "ExternalDataFile", "external data file"),
                Arguments.of("LUKS encryption", new String[] {"--object", "secret,id=s0,data=pw",
                        "-o", "encrypt.format=luks,encrypt.key-secret=s0"}, "Encrypted", "encrypted (LUKS)"),
                Arguments.of("legacy AES encryption", new String[] {"--object", "secret,id=s0,data=pw",
                        "-o", "compat=0.10,encryption=on,encrypt.key-secret=s0"}, "Encrypted", "encrypted"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostileImages")
    void hostileQcow2ImagesAreRejectedWithTheReason(String what, String[] options, String reason, String text) {
        qemuImg("evil.qcow2", options);
        ImageVerdict verdict = check("evil.qcow2");
        assertFalse(verdict.accepted(), what);
        assertEquals(reason, verdict.reason(), what + ": " + verdict.message());
        assertTrue(verdict.message().contains(text), what + ": " + verdict.message());
    }

    @Test
    void aBackingFileWithoutABackingFormatIsRejected() throws IOException {
        Path image = qemuImg("nofmt.qcow2");
        byte[] name = "/etc/shadow".getBytes(StandardCharsets.US_ASCII);
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.seek(512);
            file.write(name);
            file.seek(8);
            file.writeLong(512);
            file.writeInt(name.length);
        }
        ImageVerdict verdict = check("nofmt.qcow2");
        assertEquals("BackingFile", verdict.reason(), verdict.message());
        assertTrue(verdict.message().contains("/etc/shadow"));
    }

    @Test
    void aRawFileClaimingToBeQcow2AndTheReverseAreRejected() throws IOException {
        Files.write(images.resolve("raw.qcow2"), new byte[1 << 20]);
        assertEquals("WrongFormat", check("raw.qcow2").reason());
        qemuImg("real.qcow2");
        ImageVerdict asRaw = checker.check("alice", UID, "real.qcow2", "raw");
        assertEquals("WrongFormat", asRaw.reason());
        assertTrue(asRaw.message().contains("template expects a raw image"));
        Files.write(images.resolve("disk.img"), new byte[1 << 20]);
        assertTrue(checker.check("alice", UID, "disk.img", "raw").accepted());
    }

    @Test
    void symbolicLinksAreNeverFollowed() throws IOException {
        qemuImg("real.qcow2");
        Files.createSymbolicLink(images.resolve("link.qcow2"), images.resolve("real.qcow2"));
        assertEquals("ImageIsSymlink", check("link.qcow2").reason());

        Path bob = Files.createDirectories(root.resolve("bob-real"));
        Commands.ok("qemu-img", "create", "-q", "-f", "qcow2", bob.resolve("web.qcow2").toString(), "64M");
        Files.createSymbolicLink(root.resolve("mallory"), bob);
        ImageVerdict parentLink = checker.check("mallory", UID, "web.qcow2", "qcow2");
        assertEquals("ImageDirectoryNotADirectory", parentLink.reason(), parentLink.message());
    }

    @Test
    void imagesOfAnotherUidAreRejected() throws IOException {
        qemuImg("theirs.qcow2");
        Commands.ok("chown", "4242", images.resolve("theirs.qcow2").toString());
        ImageVerdict verdict = check("theirs.qcow2");
        assertEquals("ImageNotOwned", verdict.reason());
        assertTrue(verdict.message().contains("uid 4242"));

        Commands.ok("chown", "4242", images.toString());
        Commands.ok("chown", "4242", images.resolve("theirs.qcow2").toString());
        assertEquals("ImageDirectoryForeign", checker.check("alice", 1001, "theirs.qcow2", "qcow2").reason());
    }

    @Test
    void whileItsVmRunsAnImageMayBelongToTheQemuUser() throws IOException {
        qemuImg("running.qcow2");
        Commands.ok("chown", "4242", images.resolve("running.qcow2").toString());
        try (ImageChecker.Session session = checker.open("alice", UID, new ImageChecker.Memory())) {
            assertEquals("ImageNotOwned", session.check("running.qcow2", "qcow2", false).reason());
            assertTrue(session.check("running.qcow2", "qcow2", true).accepted());
        }
    }

    @Test
    void missingImagesFifosAndDirectoriesAreRejectedWithoutBlocking() throws IOException {
        assertEquals("ImageNotFound", check("none.qcow2").reason());
        Commands.ok("mkfifo", images.resolve("fifo.qcow2").toString());
        assertEquals("ImageNotRegular", check("fifo.qcow2").reason());
        Files.createDirectory(images.resolve("dir.qcow2"));
        assertEquals("ImageNotRegular", check("dir.qcow2").reason());
        assertEquals("ImageDirectoryMissing", checker.check("nobody", UID, "x.qcow2", "qcow2").reason());
    }

    @Test
    void aChangedImageIsCheckedAgain() throws IOException {
        qemuImg("swap.qcow2");
        assertTrue(check("swap.qcow2").accepted());
        Files.delete(images.resolve("swap.qcow2"));
        qemuImg("swap.qcow2", "-b", "/etc/shadow", "-F", "raw", "-u");
        assertEquals("BackingFile", check("swap.qcow2").reason());
    }

    @Test
    void anOverlayIsAcceptedOnlyOfAReadyBaseWithItsFormatNamed() throws Exception {
        Path bases = org.ievirsh.support.Bases.directory();
        Path base = org.ievirsh.support.Bases.base(bases, "debian-12", "128M", null);
        BaseImages catalog = new BaseImages(java.util.Optional.of(bases));
        catalog.refresh();
        checker.withBases(catalog);
        Commands.ok("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base.toString(),
                images.resolve("web.qcow2").toString());
        ImageVerdict overlay = check("web.qcow2");
        assertTrue(overlay.accepted(), overlay.message());
        assertEquals(java.util.Optional.of(base.toString()), overlay.backing());
        assertEquals(128L << 20, overlay.virtualSize());
        assertTrue(overlay.blank(), "nothing written over the base: no look inside it");

        // An overlay of a file that is no base (another student's image, a root-only file) stays refused.
        Path other = qemuImg("other.qcow2");
        Commands.ok("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", other.toString(),
                images.resolve("sly.qcow2").toString());
        assertEquals("BackingFile", check("sly.qcow2").reason());
        // A base named with the wrong format, or none at all, would make QEMU probe: refused.
        Commands.ok("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", base.toString(),
                images.resolve("raw.qcow2").toString());
        assertEquals("BackingFile", check("raw.qcow2").reason());
        // A chain of three: an overlay of the overlay.
        Commands.ok("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", images.resolve("web.qcow2")
                .toString(), images.resolve("third.qcow2").toString());
        assertEquals("BackingFile", check("third.qcow2").reason());
    }
}
