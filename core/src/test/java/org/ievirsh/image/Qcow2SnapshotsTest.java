package org.ievirsh.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.ievirsh.support.Commands;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The memory states an image's internal snapshots saved, as quota.disk counts them. */
class Qcow2SnapshotsTest {
    @TempDir
    Path tmp;

    /** One snapshot table entry as the qcow2 format lays it out, {@code large} in its extra data when not 0. */
    private static byte[] entry(String id, String name, int state, long large) {
        int extra = large != 0 ? 16 : 0;
        int size = 40 + extra + id.length() + name.length();
        ByteBuffer b = ByteBuffer.allocate((size + 7) & ~7);
        b.putLong(0x50000).putInt(16).putShort((short) id.length()).putShort((short) name.length())
                .putInt(1_700_000_000).putInt(0).putLong(0).putInt(state).putInt(extra);
        if (large != 0) {
            b.putLong(large).putLong(64L << 20);
        }
        b.put(id.getBytes(StandardCharsets.US_ASCII)).put(name.getBytes(StandardCharsets.US_ASCII));
        return b.array();
    }

    @Test
    void theMemoryStatesOfEveryEntryAreSummedAndACutTableCountsWhatIsWhole() throws Exception {
        ByteArrayOutputStream table = new ByteArrayOutputStream();
        table.write(entry("1", "before-lab3", 123_456, 0));
        table.write(entry("2", "big", -1, 5L << 30));     // over 4 GiB: the 64-bit size of the extra data
        table.write(entry("3", "cold", 0, 0));            // taken stopped: no memory
        byte[] bytes = table.toByteArray();
        assertEquals(123_456 + (5L << 30), Qcow2Header.memoryStates(bytes, 3));
        assertEquals(123_456, Qcow2Header.memoryStates(bytes, 1));
        assertEquals(123_456, Qcow2Header.memoryStates(Arrays.copyOf(bytes, entry("1", "before-lab3", 0, 0).length + 50), 3));
        assertEquals(0, Qcow2Header.memoryStates(new byte[10], 5));
    }

    @Test
    void qemuImgsOwnSnapshotsAreFoundInItsTable() throws Exception {
        Path image = tmp.resolve("disk.qcow2");
        Commands.ok("qemu-img", "create", "-q", "-f", "qcow2", image.toString(), "16M");
        assertTrue(Qcow2Header.snapshotTable(Files.readAllBytes(image)).isEmpty());
        for (String label : List.of("one", "two")) {
            Commands.ok("qemu-img", "snapshot", "-c", label, image.toString());
        }
        byte[] file = Files.readAllBytes(image);
        long[] table = Qcow2Header.snapshotTable(file).orElseThrow();
        assertEquals(2, table[1]);
        byte[] entries = Arrays.copyOfRange(file, (int) table[0], file.length);
        assertEquals(0, Qcow2Header.memoryStates(entries, 2), "snapshots of a stopped disk hold no memory");
        // As if each had been taken running: both entries of qemu-img's layout are read.
        ByteBuffer b = ByteBuffer.wrap(entries);
        b.putInt(32, 1000);
        int second = (40 + b.getInt(36) + b.getShort(12) + b.getShort(14) + 7) & ~7;
        b.putInt(second + 32, 2000);
        assertEquals(3000, Qcow2Header.memoryStates(entries, 2));
    }
}
