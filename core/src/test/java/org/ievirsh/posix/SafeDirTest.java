package org.ievirsh.posix;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.stream.Collectors;
import org.ievirsh.support.Commands;
import org.ievirsh.support.Root;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeDirTest {
    @TempDir
    Path tmp;

    @Test
    void aSymbolicLinkToADirectoryIsNotOpened() throws Exception {
        Path victim = Files.createDirectories(tmp.resolve("victim"));
        Files.createSymbolicLink(tmp.resolve("link"), victim);
        try (SafeDir dir = SafeDir.openTrusted(tmp)) {
            PosixException e = assertThrows(PosixException.class, () -> dir.openDir("link"));
            assertTrue(e.isSymlinkRefused(), e.getMessage());
        }
    }

    @Test
    void namesThatAreNotOneComponentAreRefused() throws Exception {
        try (SafeDir dir = SafeDir.openTrusted(tmp)) {
            for (String bad : new String[] {"..", ".", "a/b", "", "../etc"}) {
                assertThrows(IllegalArgumentException.class, () -> dir.stat(bad), bad);
            }
        }
    }

    @Test
    void aFifoIsNeverBlockedOn() throws Exception {
        Commands.ok("mkfifo", tmp.resolve("web.yaml").toString());
        try (SafeDir dir = SafeDir.openTrusted(tmp)) {
            SafeDir.Contents contents = dir.read("web.yaml", 1024).orElseThrow();
            assertEquals(FileStat.Type.OTHER, contents.stat().type());
            assertNull(contents.bytes());
        }
    }

    @Test
    void writingReplacesALinkInsteadOfWritingThroughIt() throws Exception {
        Path victim = Files.writeString(tmp.resolve("victim"), "precious");
        Path status = Files.createDirectories(tmp.resolve("status"));
        Files.createSymbolicLink(status.resolve("web.yaml"), victim);
        try (SafeDir dir = SafeDir.openTrusted(status)) {
            dir.writeAtomically("web.yaml", "phase: Running\n".getBytes(StandardCharsets.UTF_8), Nss.effectiveUid(),
                    Nss.effectiveGid(), 0644);
        }
        assertEquals("precious", Files.readString(victim));
        assertFalse(Files.isSymbolicLink(status.resolve("web.yaml")));
        assertEquals("phase: Running\n", Files.readString(status.resolve("web.yaml")));
        assertEquals(Set.of("web.yaml"), Files.list(status).map(p -> p.getFileName().toString())
                .collect(Collectors.toSet()), "no temporary file is left behind");
    }

    @Test
    void aDirectorySwappedForALinkAfterOpeningKeepsWritesInside() throws Exception {
        Path home = Files.createDirectories(tmp.resolve("home"));
        Path victim = Files.createDirectories(tmp.resolve("etc"));
        try (SafeDir dir = SafeDir.openTrusted(home)) {
            Files.move(home, tmp.resolve("moved"));
            Files.createSymbolicLink(home, victim);
            dir.writeAtomically("x.yaml", new byte[] {1}, Nss.effectiveUid(), Nss.effectiveGid(), 0600);
        }
        assertTrue(Files.exists(tmp.resolve("moved/x.yaml")));
        assertFalse(Files.exists(victim.resolve("x.yaml")));
    }

    @Test
    void writtenFilesGetTheOwnerAndModeAsked() throws Exception {
        Root.require();
        try (SafeDir dir = SafeDir.openTrusted(tmp)) {
            dir.writeAtomically("s.yaml", new byte[] {'a'}, 4242, 4343, 0644);
            FileStat stat = dir.stat("s.yaml").orElseThrow();
            assertEquals(4242, stat.uid());
            assertEquals(4343, stat.gid());
            assertEquals(0644, stat.mode());
            try (SafeDir created = dir.openOrCreateDir(".status", 4242, 4343, 0755)) {
                assertEquals(4242, created.stat().uid());
                assertEquals(0755, created.stat().mode());
            }
        }
        assertEquals("rw-r--r--", PosixFilePermissions.toString(
                Files.getPosixFilePermissions(tmp.resolve("s.yaml"), LinkOption.NOFOLLOW_LINKS)));
    }

    @Test
    void listingGivesNamesAndTypesEveryTime() throws Exception {
        Files.writeString(tmp.resolve("a.yaml"), "x");
        Files.createDirectory(tmp.resolve("d"));
        Files.createSymbolicLink(tmp.resolve("l"), tmp.resolve("a.yaml"));
        try (SafeDir dir = SafeDir.openTrusted(tmp)) {
            for (int round = 0; round < 2; round++) {
                Set<String> names = dir.list().stream().map(e -> e.name() + ":" + e.type()).collect(Collectors.toSet());
                assertEquals(Set.of("a.yaml:REGULAR", "d:DIRECTORY", "l:SYMLINK"), names);
            }
            assertArrayEquals(new byte[] {'x'}, dir.read("a.yaml", 10).orElseThrow().bytes());
            assertEquals(FileStat.Type.SYMLINK, dir.stat("l").orElseThrow().type());
            assertTrue(dir.stat("missing").isEmpty());
        }
    }

    @Test
    void directoriesAroundTheFirstBufferSizeAreListedWhole() throws Exception {
        // 40-byte records: the first 2 KB read holds 51; counts on either side of a read's end, grown or not.
        Set<String> made = new java.util.HashSet<>();
        for (int count : new int[] {0, 1, 25, 26, 50, 51, 52, 103, 900}) {
            while (made.size() < count) {
                String name = String.format("vm-%015d.yaml", made.size());
                Files.createFile(tmp.resolve(name));
                made.add(name);
            }
            try (SafeDir dir = SafeDir.openTrusted(tmp)) {
                assertEquals(made, dir.list().stream().map(SafeDir.Entry::name).collect(Collectors.toSet()),
                        count + " entries");
            }
        }
    }

    @Test
    void aLargeDirectoryIsListedWholeEveryTimeAndNamesThatAreNotUtf8AreLeftOut() throws Exception {
        int count = 3000;  // about 150 KB of entries: several reads of the kernel's listing
        for (int i = 0; i < count; i++) {
            Files.createFile(tmp.resolve(String.format("student-directory-%05d", i)));
        }
        Files.createFile(tmp.resolve("élève.yaml"));
        Commands.ok("bash", "-c", "touch \"$1\"/$'\\xffbad.yaml'", "_", tmp.toString());
        try (SafeDir dir = SafeDir.openTrusted(tmp)) {
            for (int round = 0; round < 2; round++) {
                Set<String> names = dir.list().stream().map(SafeDir.Entry::name).collect(Collectors.toSet());
                assertEquals(count + 1, names.size());
                assertTrue(names.contains("student-directory-02999") && names.contains("élève.yaml"));
            }
        }
    }
}
