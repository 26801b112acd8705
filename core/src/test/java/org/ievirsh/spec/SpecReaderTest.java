package org.ievirsh.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.ievirsh.posix.Nss;
import org.ievirsh.posix.SafeDir;
import org.ievirsh.support.Commands;
import org.ievirsh.support.Root;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpecReaderTest {
    private static final String VALID = "apiVersion: ie-virsh/v1\nkind: VirtualMachine\nspec:\n  image: web.qcow2\n";

    @TempDir
    Path dir;
    private final SpecReader.Memory memory = new SpecReader.Memory();

    private UserFiles read() throws Exception {
        try (SafeDir safe = SafeDir.openTrusted(dir)) {
            return new SpecReader().read(safe, dir.toString(), Nss.effectiveUid(), memory, 64, java.util.Set.of());
        }
    }

    private SpecEntry only(String vm) throws Exception {
        SpecEntry entry = read().vms().get(vm);
        assertTrue(entry != null, vm + " is reported");
        return entry;
    }

    @Test
    void aValidFileIsReadWithItsHashAndAge() throws Exception {
        Files.writeString(dir.resolve("web.yaml"), VALID);
        SpecEntry web = only("web");
        assertTrue(web.isValid());
        assertTrue(web.specHash().orElseThrow().startsWith("sha256:"));
        assertTrue(web.age() > 0);
    }

    @Test
    void aLinkIsIgnoredAndReportedWithoutBeingRead() throws Exception {
        Files.writeString(dir.resolve("real.txt"), VALID);
        Files.createSymbolicLink(dir.resolve("web.yaml"), Path.of("/etc/shadow"));
        SpecEntry web = only("web");
        assertFalse(web.isValid());
        assertEquals("symlink", web.errorReason());
        assertTrue(web.problems().get(0).toString().startsWith("web.yaml: is a symbolic link"));
    }

    @Test
    void aFileOfSomeoneElseIsIgnored() throws Exception {
        Root.require();
        Files.writeString(dir.resolve("web.yaml"), VALID);
        Commands.ok("chown", "4242", dir.resolve("web.yaml").toString());
        SpecEntry web = only("web");
        assertEquals("foreign_owner", web.errorReason());
        assertTrue(web.problems().get(0).message().contains("belongs to uid 4242"));
    }

    @Test
    void largeFilesFifosAndDuplicatesAreReported() throws Exception {
        Files.write(dir.resolve("big.yaml"), new byte[10 * 1024 * 1024]);
        Commands.ok("mkfifo", dir.resolve("pipe.yaml").toString());
        Files.writeString(dir.resolve("twice.yaml"), VALID);
        Files.writeString(dir.resolve("twice.yml"), VALID);
        UserFiles files = read();
        assertEquals("too_large", files.vms().get("big").errorReason());
        assertTrue(files.vms().get("big").problems().get(0).message().contains("10485760 bytes"));
        assertEquals("not_regular", files.vms().get("pipe").errorReason());
        assertEquals("duplicate", files.vms().get("twice").errorReason());
    }

    @Test
    void badNamesAreSkippedAndOtherFilesIgnored() throws Exception {
        Files.writeString(dir.resolve("My VM.yaml"), VALID);
        Files.writeString(dir.resolve("README.txt"), "hello");
        Files.writeString(dir.resolve(".hidden.yaml"), VALID);
        UserFiles files = read();
        assertTrue(files.vms().isEmpty());
        assertEquals(1, files.skipped().size());
        assertTrue(files.skipped().get(0).contains("not a valid VM name"));
    }

    @Test
    void yamlAndSchemaErrorsAreToldApart() throws Exception {
        Files.writeString(dir.resolve("a.yaml"), "spec: [\n");
        Files.writeString(dir.resolve("b.yaml"), VALID + "  colour: red\n");
        StringBuilder bomb = new StringBuilder("a: &a [x,x,x,x,x,x,x,x,x]\n");
        for (char c = 'b'; c <= 'k'; c++) {
            bomb.append(c).append(": &").append(c).append(" [*").append((char) (c - 1)).append(",*")
                    .append((char) (c - 1)).append(",*").append((char) (c - 1)).append(",*").append((char) (c - 1))
                    .append(",*").append((char) (c - 1)).append(",*").append((char) (c - 1)).append("]\n");
        }
        Files.writeString(dir.resolve("bomb.yaml"), bomb);
        UserFiles files = read();
        assertEquals("yaml", files.vms().get("a").errorReason());
        assertEquals("schema", files.vms().get("b").errorReason());
        assertEquals("yaml", files.vms().get("bomb").errorReason());
    }
}
