package org.ievirsh.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.ievirsh.support.Commands;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** BoxImporterTest imports real boxes made by the test (qemu-img, tar) and refuses hostile ones. */
class BoxImporterTest {
    private static final String OVF = "<?xml version='1.0'?><Envelope xmlns='http://schemas.dmtf.org/ovf/envelope/1'>"
            + "<References><File href='box-disk1.vmdk'/></References></Envelope>";

    @TempDir
    Path tmp;
    Path images;
    final BoxImporter importer = new BoxImporter(1L << 30, 2L << 30, Duration.ofMinutes(5));

    @BeforeEach
    void setUp() throws IOException {
        images = Files.createDirectories(tmp.resolve("images/alice"));
    }

    /** Entry is one member of a test archive. */
    record Entry(String name, byte[] bytes, byte type, String link) {
        static Entry file(String name, byte[] bytes) {
            return new Entry(name, bytes, TarArchiveEntry.LF_NORMAL, null);
        }

        static Entry file(String name, String text) {
            return file(name, text.getBytes(StandardCharsets.UTF_8));
        }
    }

    private Path tar(String name, boolean gzip, Entry... entries) throws IOException {
        Path box = tmp.resolve(name);
        try (OutputStream file = Files.newOutputStream(box);
             OutputStream out = gzip ? new GZIPOutputStream(file) : file;
             TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (Entry e : entries) {
                TarArchiveEntry entry = e.link() != null || e.type() != TarArchiveEntry.LF_NORMAL
                        ? new TarArchiveEntry(e.name(), e.type(), true) : new TarArchiveEntry(e.name(), true);
                if (e.link() != null) {
                    entry.setLinkName(e.link());
                }
                if (e.type() == TarArchiveEntry.LF_NORMAL) {
                    entry.setSize(e.bytes().length);
                }
                tar.putArchiveEntry(entry);
                if (e.type() == TarArchiveEntry.LF_NORMAL) {
                    tar.write(e.bytes());
                }
                tar.closeArchiveEntry();
            }
        }
        return box;
    }

    private byte[] qcow2(String... options) throws IOException {
        Path image = tmp.resolve("src-" + System.nanoTime() + ".qcow2");
        String[] command = Stream.concat(Stream.of("qemu-img", "create", "-q", "-f", "qcow2"),
                Stream.concat(Stream.of(options), Stream.of(image.toString(), "64M"))).toArray(String[]::new);
        Commands.ok(command);
        return Files.readAllBytes(image);
    }

    private byte[] streamVmdk() throws IOException {
        Path source = tmp.resolve("disk.qcow2");
        Files.write(source, qcow2());
        Path vmdk = tmp.resolve("box-disk1.vmdk");
        Commands.ok("qemu-img", "convert", "-O", "vmdk", "-o", "subformat=streamOptimized", source.toString(),
                vmdk.toString());
        return Files.readAllBytes(vmdk);
    }

    private Set<String> imageDirectory() throws IOException {
        try (Stream<Path> files = Files.list(images)) {
            return files.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
    }

    private String refused(Path box) throws IOException {
        BoxImporter.Refused refused = assertThrows(BoxImporter.Refused.class,
                () -> importer.importBox(box, images, "out.qcow2", null));
        assertEquals(Set.of(), imageDirectory(), "nothing is written: " + refused.getMessage());
        return refused.getMessage();
    }

    @Test
    void aLibvirtBoxBecomesAStandaloneQcow2() throws Exception {
        Path box = tar("libvirt.box", true, Entry.file("./metadata.json", "{\"provider\":\"libvirt\"}"),
                Entry.file("./Vagrantfile", "Vagrant.configure(\"2\") {}"), Entry.file("./box.img", qcow2()));
        BoxImporter.Imported imported = importer.importBox(box, images, "web.qcow2", null);
        assertEquals("libvirt", imported.provider());
        assertEquals(Set.of("web.qcow2"), imageDirectory());
        String info = Commands.ok("qemu-img", "info", imported.image().toString());
        assertTrue(info.contains("file format: qcow2") && !info.contains("backing file"), info);
        assertTrue(Qcow2Header.refusal(Files.readAllBytes(imported.image())).isEmpty());
    }

    @Test
    void aVirtualBoxBoxWithAStreamOptimizedVmdkIsConverted() throws Exception {
        Path box = tar("vbox.box", false, Entry.file("metadata.json", "{\"provider\":\"virtualbox\"}"),
                Entry.file("box.ovf", OVF), Entry.file("box-disk1.vmdk", streamVmdk()));
        BoxImporter.Imported imported = importer.importBox(box, images, "vbox.qcow2", null);
        assertEquals("virtualbox", imported.provider());
        assertTrue(Commands.ok("qemu-img", "info", imported.image().toString()).contains("virtual size: 64 MiB"));
    }

    @Test
    void dotDotAndAbsoluteNamesAreRefused() throws IOException {
        assertTrue(refused(tar("a.box", false, Entry.file("../../etc/cron.d/evil", "x"))).contains("\"..\""));
        assertTrue(refused(tar("b.box", false, Entry.file("/etc/cron.d/evil", "x"))).contains("absolute"));
    }

    @Test
    void linksAndDevicesAreRefused() throws IOException {
        assertTrue(refused(tar("l.box", false, Entry.file("metadata.json", "{\"provider\":\"libvirt\"}"),
                new Entry("box.img", null, TarArchiveEntry.LF_SYMLINK, "/etc/shadow"))).contains("link"));
        assertTrue(refused(tar("h.box", false, Entry.file("metadata.json", "{\"provider\":\"libvirt\"}"),
                new Entry("box.img", null, TarArchiveEntry.LF_LINK, "/etc/shadow"))).contains("link"));
        assertTrue(refused(tar("d.box", false, new Entry("box.img", null, TarArchiveEntry.LF_CHR, null)))
                .contains("device"));
    }

    @Test
    void aTinyArchiveAnnouncingAHugeSparseFileIsRefused() throws IOException {
        Path box = tmp.resolve("sparse.box");
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
            out.write(gnuSparseHeader("box.img", 100L << 30));
            out.write(new byte[1024]);
        }
        Files.write(box, gz.toByteArray());
        assertTrue(Files.size(box) < 200, "a tiny archive: " + Files.size(box) + " bytes");
        String message = refused(box);
        assertTrue(message.contains("sparse"), message);
    }

    /** A GNU tar header of a sparse file of {@code realSize} bytes with no data at all. */
    private static byte[] gnuSparseHeader(String name, long realSize) {
        byte[] h = new byte[512];
        put(h, 0, name);
        put(h, 100, "0000644");
        put(h, 108, "0000000");
        put(h, 116, "0000000");
        put(h, 124, "00000000000");
        put(h, 136, "00000000000");
        h[156] = 'S';
        put(h, 257, "ustar  ");
        put(h, 386, String.format("%011o", 0L));
        put(h, 398, String.format("%011o", 0L));
        put(h, 483, String.format("%011o", realSize));
        for (int i = 148; i < 156; i++) {
            h[i] = ' ';
        }
        int sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        put(h, 148, String.format("%06o", sum));
        h[154] = 0;
        h[155] = ' ';
        return h;
    }

    private static void put(byte[] h, int at, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(bytes, 0, h, at, bytes.length);
    }

    @Test
    void aTextVmdkNamingAHostFileIsRefused() throws IOException {
        String descriptor = "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n"
                + "createType=\"monolithicFlat\"\nRW 2048 FLAT \"/etc/shadow\" 0\n";
        String message = refused(tar("t.box", false, Entry.file("metadata.json", "{\"provider\":\"virtualbox\"}"),
                Entry.file("box.ovf", OVF), Entry.file("box-disk1.vmdk", descriptor)));
        assertTrue(message.contains("text VMDK descriptor"), message);
    }

    /**
     * A real streamOptimized VMDK whose header capacity is {@code capacity}
     * and whose embedded descriptor is {@code descriptor}: what a hostile box
     * holds.
     */
    private byte[] patchedVmdk(long capacity, String descriptor) throws IOException {
        byte[] vmdk = streamVmdk();
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(vmdk).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putLong(12, capacity);
        int at = (int) b.getLong(28) * 512;
        int size = (int) b.getLong(36) * 512;
        byte[] text = descriptor.getBytes(StandardCharsets.US_ASCII);
        java.util.Arrays.fill(vmdk, at, at + size, (byte) 0);
        System.arraycopy(text, 0, vmdk, at, text.length);
        return vmdk;
    }

    private static final String HEAD = "# Disk DescriptorFile\nversion=1\nCID=c754daf4\nparentCID=ffffffff\n";

    static Stream<Arguments> hostileVmdks() {
        return Stream.of(
                Arguments.of("no capacity: QEMU reads the descriptor's extents", 0L, HEAD
                        + "createType=\"monolithicFlat\"\nRW 0 SPARSE \"box-disk1.vmdk\"\nRW +8 FLAT \"/etc/passwd\" 0\n",
                        "no capacity"),
                Arguments.of("a commented createType before the real one", 131072L, HEAD
                        + "# createType=\"monolithicFlat\"\ncreateType=\"streamOptimized\"\n"
                        + "RW 131072 SPARSE \"box-disk1.vmdk\"\n", "createType) 2 times"),
                Arguments.of("an extent line with a sign the old parser skipped", 131072L, HEAD
                        + "createType=\"streamOptimized\"\nRW 131072 SPARSE \"box-disk1.vmdk\"\n"
                        + "RW +8 FLAT \"/etc/passwd\" 0\n", "/etc/passwd"),
                Arguments.of("an empty extent beside a flat one", 131072L, HEAD
                        + "createType=\"streamOptimized\"\nRW 0 SPARSE \"box-disk1.vmdk\"\n"
                        + "\tRW 8 FLAT \"/etc/passwd\" 0\n", "/etc/passwd"),
                Arguments.of("a parent named in a comment", 131072L, HEAD
                        + "createType=\"streamOptimized\"\n# parentFileNameHint=\"/etc/shadow\"\n"
                        + "RW 131072 SPARSE \"box-disk1.vmdk\"\n", "parent"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostileVmdks")
    void aVmdkQemuWouldReadAsNamingAnotherFileIsRefused(String what, long capacity, String descriptor, String text)
            throws IOException {
        byte[] vmdk = patchedVmdk(capacity, descriptor);
        if (capacity == 0) {
            // The attack is real: QEMU itself reads this file as an extent of /etc/passwd.
            Path evil = Files.write(tmp.resolve("evil.vmdk"), vmdk);
            assertTrue(Commands.ok("qemu-img", "info", evil.toString()).contains("filename: /etc/passwd"), what);
        }
        String message = refused(tar("h.box", false, Entry.file("metadata.json", "{\"provider\":\"virtualbox\"}"),
                Entry.file("box.ovf", OVF), Entry.file("box-disk1.vmdk", vmdk)));
        assertTrue(message.contains(text), what + ": " + message);
    }

    @Test
    void aVmdkWithAParentIsRefused() throws IOException {
        Path base = tmp.resolve("base.vmdk");
        Path child = tmp.resolve("child.vmdk");
        Commands.ok("qemu-img", "create", "-q", "-f", "vmdk", base.toString(), "64M");
        Commands.ok("qemu-img", "create", "-q", "-f", "vmdk", "-b", base.toString(), "-F", "vmdk", child.toString());
        String message = refused(tar("p.box", false, Entry.file("metadata.json", "{\"provider\":\"virtualbox\"}"),
                Entry.file("box.ovf", OVF), Entry.file("box-disk1.vmdk", Files.readAllBytes(child))));
        assertTrue(message.contains("parent"), message);
    }

    @Test
    void aBoxImgWithABackingFileIsRefused() throws IOException {
        String message = refused(tar("bk.box", false, Entry.file("metadata.json", "{\"provider\":\"libvirt\"}"),
                Entry.file("box.img", qcow2("-b", "/etc/shadow", "-F", "raw", "-u"))));
        assertTrue(message.contains("backing file"), message);
    }

    @Test
    void duplicatesUnexpectedNamesOversizedEntriesAndDoctypesAreRefused() throws IOException {
        assertTrue(refused(tar("dup.box", false, Entry.file("metadata.json", "{}"), Entry.file("metadata.json", "{}")))
                .contains("twice"));
        assertTrue(refused(tar("odd.box", false, Entry.file("metadata.json", "{\"provider\":\"libvirt\"}"),
                Entry.file("run.sh", "#!/bin/sh"))).contains("unexpected"));
        BoxImporter small = new BoxImporter(1024, 2L << 30, Duration.ofMinutes(1));
        Path big = tar("big.box", false, Entry.file("metadata.json", "{\"provider\":\"libvirt\"}"),
                Entry.file("box.img", new byte[4096]));
        BoxImporter.Refused refused = assertThrows(BoxImporter.Refused.class,
                () -> small.importBox(big, images, "x.qcow2", null));
        assertTrue(refused.getMessage().contains("the limit is 1024"), refused.getMessage());
        String xxe = "<?xml version='1.0'?><!DOCTYPE e [<!ENTITY x SYSTEM 'file:///etc/shadow'>]><Envelope>&x;</Envelope>";
        assertTrue(refused(tar("x.box", false, Entry.file("metadata.json", "{\"provider\":\"virtualbox\"}"),
                Entry.file("box.ovf", xxe), Entry.file("box-disk1.vmdk", streamVmdk()))).contains("box.ovf"));
        assertTrue(refused(tar("nometa.box", false, Entry.file("box.img", "x"))).contains("metadata.json"));
        assertTrue(refused(tar("aws.box", false, Entry.file("metadata.json", "{\"provider\":\"aws\"}")))
                .contains("provider \"aws\""));
    }

    @Test
    void anExistingImageIsNeverOverwritten() throws IOException {
        Files.writeString(images.resolve("web.qcow2"), "mine");
        Path box = tar("libvirt.box", false, Entry.file("metadata.json", "{\"provider\":\"libvirt\"}"),
                Entry.file("box.img", "x"));
        BoxImporter.Refused refused = assertThrows(BoxImporter.Refused.class,
                () -> importer.importBox(box, images, "web.qcow2", null));
        assertTrue(refused.getMessage().contains("already exists"));
        assertEquals("mine", Files.readString(images.resolve("web.qcow2")));
        assertEquals(List.of("web.qcow2"), List.copyOf(imageDirectory()));
    }
}
