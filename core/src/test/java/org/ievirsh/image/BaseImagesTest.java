package org.ievirsh.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.ievirsh.api.v1.VirtualMachine;
import org.ievirsh.support.Bases;
import org.ievirsh.support.Commands;
import org.ievirsh.support.Root;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** BaseImagesTest: what the admin's directory of bases serves, and what it refuses and why. */
class BaseImagesTest {
    Path dir;

    @BeforeEach
    void setUp() throws Exception {
        Root.require();
        dir = Bases.directory();
    }

    private BaseImages catalog() {
        BaseImages catalog = new BaseImages(Optional.of(dir));
        catalog.refresh();
        return catalog;
    }

    @Test
    void aRootOwnedReadOnlyQcow2WithItsDescriptorIsReady() throws Exception {
        Path base = Bases.base(dir, "debian-12", "1G", "description: Debian 12\nfirstBoot: cloud-init\nuser: debian\n");
        BaseImages catalog = catalog();
        BaseImages.Base found = catalog.find("debian-12").orElseThrow();
        assertTrue(found.ready(), found.rejected().orElse(""));
        assertEquals(base, found.path());
        assertEquals(1L << 30, found.virtualSize());
        assertEquals(new BaseImages.Descriptor("Debian 12", VirtualMachine.FirstBoot.CLOUD_INIT, Optional.of("debian")),
                found.descriptor());
        assertTrue(catalog.isReadyBase(base.toString()));
        assertFalse(catalog.isReadyBase(base.toString() + "x"));
        long generation = catalog.generation();
        assertFalse(catalog.refresh(), "nothing changed: nothing read again");
        assertEquals(generation, catalog.generation());
    }

    @Test
    void whatBreaksARuleIsRefusedWithWhy() throws Exception {
        Bases.base(dir, "writable", "64M", null);
        Commands.ok("chmod", "666", dir.resolve("writable.qcow2").toString());
        Bases.base(dir, "private", "64M", null);
        Commands.ok("chmod", "600", dir.resolve("private.qcow2").toString());
        Bases.base(dir, "foreign", "64M", null);
        Commands.ok("chown", "nobody", dir.resolve("foreign.qcow2").toString());
        Path chained = Bases.base(dir, "chained", "64M", null);
        Commands.ok("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", chained.toString(),
                dir.resolve("chain2.qcow2").toString());
        Commands.ok("chmod", "644", dir.resolve("chain2.qcow2").toString());
        Files.writeString(dir.resolve("raw.qcow2"), "not a qcow2");
        Files.createSymbolicLink(dir.resolve("link.qcow2"), dir.resolve("chained.qcow2"));
        Bases.base(dir, "Bad_Name", "64M", null);
        Bases.base(dir, "odd", "64M", "firstBoot: always\n");
        BaseImages catalog = catalog();
        assertTrue(catalog.find("chained").orElseThrow().ready());
        assertRejected(catalog, "writable", "written by no one else");
        assertRejected(catalog, "private", "chmod a+r");
        assertRejected(catalog, "foreign", "root's");
        assertRejected(catalog, "chain2", "backing file");
        assertRejected(catalog, "raw", "qcow2 image");
        assertRejected(catalog, "link", "symbolic link");
        assertRejected(catalog, "Bad_Name", "name");
        assertRejected(catalog, "odd", "firstBoot: cloud-init or none");
        assertEquals(java.util.Map.of("ready", 1, "rejected", 8, "insecure", 0, "changed", 0),
                catalog.counts(java.util.Set.of(), b -> false));
        assertEquals(java.util.Map.of("ready", 0, "rejected", 7, "insecure", 1, "changed", 2),
                catalog.counts(java.util.Set.of("writable", "gone"), b -> b.name().equals("chained")),
                "a changed base counts as changed whatever else it is, and one that is gone too");
    }

    @Test
    void aDirectoryOthersCanWriteServesNoBase() throws Exception {
        Bases.base(dir, "debian-12", "64M", null);
        Commands.ok("chmod", "1777", dir.toString());  // sticky or not: someone else could put a file there first
        BaseImages catalog = catalog();
        assertTrue(catalog.rootProblem().orElse("").contains("can be written by someone other than root"),
                catalog.rootProblem().toString());
        assertTrue(catalog.find("debian-12").isEmpty());
    }

    @Test
    void aDescriptorHoldsThreeFieldsAndNoOthers() {
        assertEquals(BaseImages.Descriptor.NONE, BaseImages.parseDescriptor("d.yaml", new byte[0]).orThrow());
        assertFalse(BaseImages.parseDescriptor("d.yaml", "user: root; rm -rf /\n".getBytes(StandardCharsets.UTF_8))
                .isOk());
        assertFalse(BaseImages.parseDescriptor("d.yaml", "extra: 1\n".getBytes(StandardCharsets.UTF_8)).isOk());
    }

    private static void assertRejected(BaseImages catalog, String name, String why) {
        BaseImages.Base base = catalog.find(name).orElseThrow(() -> new AssertionError("no entry for " + name));
        assertFalse(base.ready(), name);
        assertTrue(base.rejected().get().contains(why), name + ": " + base.rejected().get());
    }
}
