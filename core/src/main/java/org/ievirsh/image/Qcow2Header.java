package org.ievirsh.image;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;

/**
 * Qcow2Header reads the header of a qcow2 image (and its header extensions)
 * and says why the image must not be used, if it must not: a backing file
 * (which QEMU would open, whatever it names) other than the one the caller
 * allows, with its format named qcow2 (an overlay of an admin's base), an
 * external data file, encryption, an unknown incompatible feature, or a
 * corrupt mark.
 */
public final class Qcow2Header {
    static final int MAGIC = 0x514649fb;
    /** BYTES_NEEDED is how much of the file {@link #refusal} wants: the largest possible first cluster. */
    public static final int BYTES_NEEDED = 2 * 1024 * 1024;
    /** FIRST_READ is enough for the header of an image with the usual clusters (64 KiB). */
    public static final int FIRST_READ = 64 * 1024;

    private static final String STANDALONE = "make it standalone: qemu-img convert -O qcow2 OLD.qcow2 NEW.qcow2";
    private static final int EXT_END = 0;
    private static final int EXT_BACKING_FORMAT = 0xe2792aca;
    private static final int EXT_DATA_FILE = 0x44415441;
    private static final int EXT_FULL_DISK_ENCRYPTION = 0x0537be77;

    private static final long INCOMPATIBLE_DIRTY = 1;
    private static final long INCOMPATIBLE_CORRUPT = 1 << 1;
    private static final long INCOMPATIBLE_DATA_FILE = 1 << 2;
    private static final long INCOMPATIBLE_COMPRESSION = 1 << 3;
    private static final long INCOMPATIBLE_EXTENDED_L2 = 1 << 4;
    private static final long INCOMPATIBLE_KNOWN = INCOMPATIBLE_DIRTY | INCOMPATIBLE_CORRUPT | INCOMPATIBLE_DATA_FILE
            | INCOMPATIBLE_COMPRESSION | INCOMPATIBLE_EXTENDED_L2;

    private Qcow2Header() {
    }

    /** Refusal is why an image is refused: a CamelCase reason and a message with the fix. */
    public record Refusal(String reason, String message) {
    }

    /**
     * How much of the file {@link #refusal} needs, judged from its first
     * bytes: the first cluster (header and extensions), at most
     * {@link #BYTES_NEEDED}.
     */
    public static int bytesNeeded(byte[] head) {
        if (head.length < 24 || !looksLikeQcow2(head)) {
            return head.length;
        }
        int clusterBits = ByteBuffer.wrap(head).getInt(20);
        return clusterBits < 9 || clusterBits > 21 ? head.length : 1 << clusterBits;
    }

    /** The most of an L1 table read to tell a blank image: 128 Ki entries, a 1 TiB disk of 64 KiB clusters. */
    public static final int L1_BYTES_LIMIT = 1 << 20;

    /**
     * Where the active L1 table is ({@code [offset, entries]}), when the
     * image has no internal snapshot (a snapshot's own table may map data):
     * an image whose active L1 entries are all zero maps no cluster, so it
     * holds no data at all.
     */
    public static Optional<long[]> activeL1(byte[] head) {
        if (head.length < 72 || !looksLikeQcow2(head)) {
            return Optional.empty();
        }
        ByteBuffer b = ByteBuffer.wrap(head).order(ByteOrder.BIG_ENDIAN);
        long entries = Integer.toUnsignedLong(b.getInt(36));
        long offset = b.getLong(40);
        long snapshots = Integer.toUnsignedLong(b.getInt(60));
        return snapshots != 0 || offset < 0 ? Optional.empty() : Optional.of(new long[] {offset, entries});
    }

    /** The most snapshot table entries read: {@code snapshots.maxPerVm} allows at most 100. */
    public static final int SNAPSHOTS_READ = 1000;

    /**
     * Where the internal snapshots' table is ({@code [offset, entries]}),
     * when the image has any.
     */
    public static Optional<long[]> snapshotTable(byte[] head) {
        if (head.length < 72 || !looksLikeQcow2(head)) {
            return Optional.empty();
        }
        ByteBuffer b = ByteBuffer.wrap(head).order(ByteOrder.BIG_ENDIAN);
        long entries = Integer.toUnsignedLong(b.getInt(60));
        long offset = b.getLong(64);
        return entries == 0 || offset <= 0 ? Optional.empty() : Optional.of(new long[] {offset, entries});
    }

    /**
     * The bytes of memory state the first {@code entries} snapshots of
     * {@code table} saved (a snapshot of a running VM holds its memory; one
     * of a stopped VM none). Entries cut off by the table's end are not
     * counted. Each entry: 40 bytes (the memory state's size at 32, the
     * extra data's size at 36), the extra data (its first 8 bytes the
     * memory state's size when it exceeds 32 bits), the id, the name,
     * padding to 8 bytes.
     */
    public static long memoryStates(byte[] table, long entries) {
        ByteBuffer b = ByteBuffer.wrap(table).order(ByteOrder.BIG_ENDIAN);
        long total = 0;
        int at = 0;
        for (long i = 0; i < Math.min(entries, SNAPSHOTS_READ) && at + 40 <= table.length; i++) {
            int idSize = Short.toUnsignedInt(b.getShort(at + 12));
            int nameSize = Short.toUnsignedInt(b.getShort(at + 14));
            long state = Integer.toUnsignedLong(b.getInt(at + 32));
            long extra = Integer.toUnsignedLong(b.getInt(at + 36));
            if (extra >= 8 && at + 48 <= table.length) {
                state = Math.max(state, b.getLong(at + 40));
            }
            long end = at + 40 + extra + idSize + nameSize;
            if (end > table.length || state < 0) {
                break;
            }
            total += state;
            at = (int) Math.min((end + 7) & ~7L, Integer.MAX_VALUE);  // the last entry's padding may be past the file's end
        }
        return total;
    }

    /** True when every byte of {@code table} is zero: no L1 entry points to an L2 table. */
    public static boolean allZero(byte[] table) {
        for (byte x : table) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    /** True when {@code head} starts with the qcow2 magic. */
    public static boolean looksLikeQcow2(byte[] head) {
        return head.length >= 4 && ByteBuffer.wrap(head).getInt(0) == MAGIC;
    }

    /**
     * Why the qcow2 image whose first bytes are {@code head} must not be
     * used, or empty when it is a standalone, unencrypted qcow2 image.
     */
    public static Optional<Refusal> refusal(byte[] head) {
        return refusal(head, name -> false);
    }

    /** The virtual size of the disk, in bytes; -1 when {@code head} is not a qcow2 header. */
    public static long virtualSize(byte[] head) {
        return head.length < 32 || !looksLikeQcow2(head) ? -1 : ByteBuffer.wrap(head).getLong(24);
    }

    /**
     * The backing file the header names, exactly as written, when it names
     * one that reads as text (printable ASCII or UTF-8, at most 1023 bytes).
     */
    public static Optional<String> backingFile(byte[] head) {
        if (head.length < 72 || !looksLikeQcow2(head)) {
            return Optional.empty();
        }
        ByteBuffer b = ByteBuffer.wrap(head).order(ByteOrder.BIG_ENDIAN);
        long offset = b.getLong(8);
        int size = b.getInt(16);
        if (offset <= 0 || size <= 0 || size > 1023 || offset + size > head.length) {
            return Optional.empty();
        }
        String name = new String(head, (int) offset, size, java.nio.charset.StandardCharsets.UTF_8);
        return name.chars().allMatch(c -> c >= 0x20 && c != 0x7f && c != 0xfffd) ? Optional.of(name) : Optional.empty();
    }

    /**
     * The same, where a backing file is allowed when {@code allowed} says so
     * of its name and the header names its format {@code qcow2}: an overlay
     * of one of the admin's base images (whose own chain ends there, which
     * the caller checks of the base).
     */
    public static Optional<Refusal> refusal(byte[] head, java.util.function.Predicate<String> allowed) {
        if (head.length < 72) {
            return refuse("WrongFormat", "it is too short to be a qcow2 image (" + head.length + " bytes)");
        }
        ByteBuffer b = ByteBuffer.wrap(head).order(ByteOrder.BIG_ENDIAN);
        if (b.getInt(0) != MAGIC) {
            return refuse("WrongFormat", "it is not a qcow2 image (no QFI\\xfb magic at its start)");
        }
        int version = b.getInt(4);
        if (version != 2 && version != 3) {
            return refuse("WrongFormat", "it is qcow2 version " + version + "; only versions 2 and 3 are supported");
        }
        long backingOffset = b.getLong(8);
        int backingSize = b.getInt(16);
        Optional<String> backing = backingFile(head);
        boolean overlay = backing.isPresent() && allowed.test(backing.get());
        if (backingOffset != 0 && !overlay) {
            return refuse("BackingFile", "it names a backing file (" + backingName(head, backingOffset, backingSize)
                    + "), which is none of the admin's base images (ie-virsh bases lists them); " + STANDALONE);
        }
        int clusterBits = b.getInt(20);
        if (clusterBits < 9 || clusterBits > 21) {
            return refuse("DamagedImage", "its header is damaged (cluster bits " + clusterBits + ")");
        }
        int crypt = b.getInt(32);
        if (crypt != 0) {
            String method = crypt == 1 ? "AES" : crypt == 2 ? "LUKS" : "method " + crypt;
            return refuse("Encrypted", "it is encrypted (" + method + "); upload an unencrypted image");
        }
        int extensionsAt = 72;
        if (version == 3) {
            if (head.length < 104) {
                return refuse("DamagedImage", "its version 3 header is truncated");
            }
            long incompatible = b.getLong(72);
            if ((incompatible & INCOMPATIBLE_DATA_FILE) != 0) {
                return refuse("ExternalDataFile", "it keeps its data in an external data file; " + STANDALONE);
            }
            if ((incompatible & INCOMPATIBLE_CORRUPT) != 0) {
                return refuse("DamagedImage", "it is marked corrupt; repair it with qemu-img check -r all");
            }
            if ((incompatible & ~INCOMPATIBLE_KNOWN) != 0) {
                return refuse("DamagedImage",
                        "it uses unknown incompatible features (0x" + Long.toHexString(incompatible) + ")");
            }
            extensionsAt = b.getInt(100);
            if (extensionsAt < 104 || extensionsAt > head.length) {
                return refuse("DamagedImage", "its header length " + extensionsAt + " is not valid");
            }
        }
        long clusterSize = 1L << clusterBits;
        int position = extensionsAt;
        boolean backingFormatSeen = false;
        for (int count = 0; ; count++) {
            if (position + 8L > Math.min(head.length, clusterSize) || count > 1024) {
                return refuse("DamagedImage", "its header extensions do not end within the first cluster");
            }
            int type = b.getInt(position);
            long length = b.getInt(position + 4) & 0xffffffffL;
            if (type == EXT_END) {
                return overlay && !backingFormatSeen ? refuse("BackingFile", "it names its base without the base's"
                        + " format, and QEMU would probe it; make the disk again (or: qemu-img rebase -u -F qcow2 -b "
                        + backing.get() + " IMAGE)") : Optional.empty();
            }
            if (type == EXT_BACKING_FORMAT) {
                String format = position + 8 + length <= head.length
                        ? new String(head, position + 8, (int) length, java.nio.charset.StandardCharsets.US_ASCII) : "";
                if (!overlay || !format.equals("qcow2")) {
                    return refuse("BackingFile", overlay ? "it names its base's format as " + format + ", not qcow2"
                            : "it names a backing file format, as images with a backing file do; " + STANDALONE);
                }
                backingFormatSeen = true;
            }
            if (type == EXT_DATA_FILE) {
                return refuse("ExternalDataFile", "it names an external data file; " + STANDALONE);
            }
            if (type == EXT_FULL_DISK_ENCRYPTION) {
                return refuse("Encrypted", "it is encrypted (LUKS); upload an unencrypted image");
            }
            position += 8 + (int) ((length + 7) & ~7L);
        }
    }

    private static Optional<Refusal> refuse(String reason, String message) {
        return Optional.of(new Refusal(reason, message));
    }

    private static String backingName(byte[] head, long offset, int size) {
        if (offset < 0 || size <= 0 || size > 1023 || offset + size > head.length) {
            return "at offset " + offset;
        }
        StringBuilder name = new StringBuilder();
        for (int i = 0; i < size; i++) {
            char c = (char) (head[(int) offset + i] & 0xff);
            name.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return name.length() > 80 ? name.substring(0, 80) + "..." : name.toString();
    }
}
