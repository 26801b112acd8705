package org.ievirsh.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.ievirsh.posix.LockFile;
import org.ievirsh.posix.PosixException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LeadershipTest: the lock file's flock makes one leader at a time (two
 * opens in one process exclude each other, as flock does and fcntl does
 * not), the next leader takes over when the first closes, and every
 * leader writes one more epoch with its host and pid.
 */
class LeadershipTest {
    @TempDir
    Path tmp;
    private final Clock clock = Clock.fixed(Instant.parse("2026-12-02T10:00:00Z"), ZoneOffset.UTC);

    @Test
    void oneLeaderAtATimeAndEachTakeoverCountsAnEpoch() throws Exception {
        Path file = tmp.resolve("controller.lock");
        Leadership first = new Leadership(file);
        Leadership.Record one = first.take(clock);
        assertEquals(1, one.epoch());
        assertEquals(ProcessHandle.current().pid(), one.pid());
        assertEquals("epoch 1\nhost " + one.host() + "\npid " + one.pid() + "\nsince 2026-12-02T10:00:00Z\n",
                Files.readString(file));
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(file)));
        try (LockFile other = LockFile.open(file)) {
            assertFalse(other.tryLock(), "held by the leader");
        }
        Leadership second = new Leadership(file);
        CompletableFuture<Leadership.Record> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return second.take(clock);
            } catch (PosixException e) {
                throw new IllegalStateException(e);
            }
        });
        first.close();
        Leadership.Record two = waiting.get(20, TimeUnit.SECONDS);
        assertEquals(2, two.epoch());
        assertTrue(Files.readString(file).startsWith("epoch 2\n"), Files.readString(file));
        second.close();
    }

    @Test
    void aLockFileThatIsASymbolicLinkIsRefused() throws Exception {
        Path target = Files.writeString(tmp.resolve("elsewhere"), "x");
        Path link = Files.createSymbolicLink(tmp.resolve("controller.lock"), target);
        PosixException e = assertThrows(PosixException.class, () -> new Leadership(link));
        assertTrue(e.isSymlinkRefused(), e.getMessage());
        assertEquals("x", Files.readString(target));
    }

    @Test
    void aLockFileOthersCanOpenIsRefusedWithWhatToChange() throws Exception {
        // A student who can open the file can flock it, and every controller stays a standby for ever.
        Path file = tmp.resolve("controller.lock");
        Files.writeString(file, "");
        Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        PosixException readable = assertThrows(PosixException.class, () -> new Leadership(file));
        assertTrue(readable.getMessage().contains("mode 0644") && readable.getMessage().contains("chmod 600"),
                readable.getMessage());
        Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        org.ievirsh.support.Root.require();
        org.ievirsh.support.Commands.ok("chown", "nobody", file.toString());
        PosixException foreign = assertThrows(PosixException.class, () -> new Leadership(file));
        assertTrue(foreign.getMessage().contains("uid " + org.ievirsh.posix.Nss.byName("nobody").orElseThrow().uid()),
                foreign.getMessage());
    }

    @Test
    void aLockFileInADirectoryOthersCanWriteIsRefused() throws Exception {
        Path shared = Files.createDirectory(tmp.resolve("shared"));
        Files.setPosixFilePermissions(shared, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        PosixException e = assertThrows(PosixException.class, () -> new Leadership(shared.resolve("controller.lock")));
        assertTrue(e.getMessage().contains("the directory " + shared) && e.getMessage().contains("chmod go-w"),
                e.getMessage());
        Path sticky = Files.createDirectory(tmp.resolve("sticky"));
        org.ievirsh.support.Commands.ok("chmod", "1777", sticky.toString());
        new Leadership(sticky.resolve("controller.lock")).close();  // as /tmp: no one else can move root's file
    }

    @Test
    void theEpochIsReadFromWhatAnyEarlierLeaderWrote() {
        assertEquals(0, Leadership.epochOf(""));
        assertEquals(0, Leadership.epochOf("garbage\nepoch x\n"));
        assertEquals(41, Leadership.epochOf("epoch 41\nhost a\npid 7\n"));
        assertEquals(0, Leadership.epochOf("epoch 99999999999999999999\n"), "too long: not an epoch");
    }
}
