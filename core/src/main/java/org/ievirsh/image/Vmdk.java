package org.ievirsh.image;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Vmdk checks a VMDK from a Vagrant box before QEMU opens it, reading it the
 * way QEMU's vmdk driver does. Only a binary sparse VMDK (magic {@code KDMV},
 * {@code streamOptimized} or {@code monolithicSparse}) is accepted, with a
 * capacity (QEMU reads the embedded descriptor of a zero-capacity one as a
 * descriptor file, extents and all), no parent, and whose only extent, as
 * QEMU would find extents, is the file itself: a text descriptor, or any line
 * QEMU could take for a second extent, can name any file of the host as data.
 */
public final class Vmdk {
    /** HEADER_BYTES is how much of the file {@link #refusal} needs: the header and its descriptor. */
    public static final int HEADER_BYTES = 64 * 1024;
    private static final int MAGIC = 0x564d444b; // "KDMV" read little-endian
    /** The one extent accepted, as QEMU scans it: RW, a sector count, SPARSE, the file's name. */
    private static final Pattern SELF_EXTENT = Pattern.compile("^[ \\t\\r\\f\\x0b]*RW[ \\t\\r\\f\\x0b]+\\+?0*[1-9][0-9]*"
            + "[ \\t\\r\\f\\x0b]+SPARSE[ \\t\\r\\f\\x0b]+\"([^\"\\n\\r]*)\"[ \\t\\r\\f\\x0b]*$");
    private static final Pattern EXTENT_TOKEN = Pattern.compile("^[ \\t\\r\\f\\x0b]*(RW|RDONLY|NOACCESS)",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern QUOTED_VALUE = Pattern.compile("^[ \\t]*=[ \\t]*\"([^\"]*)\"");
    private static final Pattern PARENT_CID = Pattern.compile("^[ \\t]*=[ \\t]*([0-9A-Fa-f]+)");

    private Vmdk() {
    }

    /** Why the VMDK named {@code fileName}, whose first bytes are {@code head}, must not be used; empty if fine. */
    public static Optional<String> refusal(String fileName, byte[] head) {
        if (head.length >= 21 && new String(head, 0, 21, StandardCharsets.US_ASCII).startsWith("# Disk DescriptorFile")) {
            return Optional.of("it is a text VMDK descriptor: it can name any file of the host as its data;"
                    + " only a binary (sparse) VMDK is accepted");
        }
        if (head.length < 80) {
            return Optional.of("it is too short to be a VMDK");
        }
        ByteBuffer b = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(0) != MAGIC) {
            return Optional.of("it is not a binary VMDK (no KDMV magic)");
        }
        if (b.getLong(12) <= 0) {
            return Optional.of("its header gives no capacity, which makes QEMU read its descriptor as a descriptor"
                    + " file (whose extents may name any file); export the box again");
        }
        Optional<String> descriptor = descriptor(head, b);
        if (descriptor.isEmpty()) {
            return Optional.of("its embedded descriptor is missing, out of place or larger than a box's");
        }
        return refusalOf(fileName, descriptor.get());
    }

    /**
     * The embedded descriptor as QEMU reads it: a C string from its offset;
     * empty when what QEMU would read does not lie whole within {@code head}.
     */
    private static Optional<String> descriptor(byte[] head, ByteBuffer b) {
        long offset = b.getLong(28) * 512;
        long size = b.getLong(36) * 512;
        if (offset <= 0 || size <= 0 || offset >= head.length) {
            return Optional.empty();
        }
        int end = (int) Math.min(head.length, offset + size);
        int nul = (int) offset;
        while (nul < end && head[nul] != 0) {
            nul++;
        }
        if (nul == end && offset + size > head.length) {
            return Optional.empty();  // QEMU would read on past what was seen here
        }
        return Optional.of(new String(head, (int) offset, nul - (int) offset, StandardCharsets.ISO_8859_1));
    }

    /** Why a descriptor QEMU would read as {@code descriptor} must not be used. */
    static Optional<String> refusalOf(String fileName, String descriptor) {
        // QEMU finds these keys anywhere in the text, comments included, the first time they occur.
        if (descriptor.contains("parentFileNameHint")) {
            return Optional.of("it has a parent disk (parentFileNameHint); export the box without snapshots");
        }
        List<String> types = values(descriptor, "createType", QUOTED_VALUE);
        if (types.size() != 1) {
            return Optional.of(types.isEmpty() ? "its type (createType) is not given"
                    : "it gives its type (createType) " + types.size() + " times; a box's VMDK gives it once");
        }
        String createType = types.get(0);
        if (!"streamOptimized".equals(createType) && !"monolithicSparse".equals(createType)) {
            return Optional.of("its type is " + createType + "; only streamOptimized and monolithicSparse VMDKs are"
                    + " accepted");
        }
        List<String> parents = values(descriptor, "parentCID", PARENT_CID);
        if (!parents.isEmpty() && !parents.get(0).equalsIgnoreCase("ffffffff")) {
            return Optional.of("it has a parent disk (parentCID=" + parents.get(0) + "); export the box without"
                    + " snapshots");
        }
        List<String> extents = new ArrayList<>();
        String self = null;
        for (String line : descriptor.split("\n", -1)) {
            if (!EXTENT_TOKEN.matcher(line).find()) {
                continue;
            }
            extents.add(line.strip());
            Matcher m = SELF_EXTENT.matcher(line);
            if (m.matches()) {
                self = m.group(1);
            }
        }
        if (extents.size() != 1 || self == null || !self.equals(fileName)) {
            return Optional.of("its extents are " + (extents.isEmpty() ? "missing" : String.join("; ", extents))
                    + "; only one, the file itself (RW n SPARSE \"" + fileName + "\"), is accepted");
        }
        return Optional.empty();
    }

    /** Every value of {@code key} in the text (QEMU takes the first), read as {@code value} after it. */
    private static List<String> values(String text, String key, Pattern value) {
        List<String> found = new ArrayList<>();
        int at = 0;
        while ((at = text.indexOf(key, at)) >= 0) {
            at += key.length();
            Matcher m = value.matcher(text.substring(at, Math.min(text.length(), at + 256)));
            found.add(m.find() ? m.group(1) : "(unreadable)");
        }
        return found;
    }
}
