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
 * Vmdk checks a VMDK from a Vagrant box before QEMU opens it. Only a binary
 * sparse VMDK (magic {@code KDMV}, {@code streamOptimized} or
 * {@code monolithicSparse}) whose one extent is the file itself and that has
 * no parent is accepted: a text descriptor can name any file of the host as
 * its data, and a parent is another file to open.
 */
public final class Vmdk {
    /** HEADER_BYTES is how much of the file {@link #refusal} needs: the header and its descriptor. */
    public static final int HEADER_BYTES = 64 * 1024;
    private static final int MAGIC = 0x564d444b; // "KDMV" read little-endian
    private static final Pattern EXTENT = Pattern.compile("^(RW|RDONLY|NOACCESS)\\s+(\\d+)\\s+(\\S+)\\s+\"([^\"]*)\"(.*)$");
    private static final Pattern CREATE_TYPE = Pattern.compile("^createType\\s*=\\s*\"([^\"]*)\"\\s*$");
    private static final Pattern PARENT_CID = Pattern.compile("^parentCID\\s*=\\s*(\\S+)\\s*$");

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
        long descriptorOffset = b.getLong(28) * 512;
        long descriptorSize = b.getLong(36) * 512;
        if (descriptorOffset <= 0 || descriptorSize <= 0 || descriptorOffset + Math.min(descriptorSize, 16384)
                > head.length) {
            return Optional.of("its embedded descriptor is missing or out of place");
        }
        int length = (int) Math.min(descriptorSize, head.length - descriptorOffset);
        String descriptor = new String(head, (int) descriptorOffset, length, StandardCharsets.US_ASCII);
        int end = descriptor.indexOf('\0');
        if (end >= 0) {
            descriptor = descriptor.substring(0, end);
        }
        String createType = null;
        String parentCid = null;
        List<String[]> extents = new ArrayList<>();
        for (String raw : descriptor.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            Matcher m = CREATE_TYPE.matcher(line);
            if (m.matches()) {
                createType = m.group(1);
                continue;
            }
            m = PARENT_CID.matcher(line);
            if (m.matches()) {
                parentCid = m.group(1);
                continue;
            }
            if (line.startsWith("parentFileNameHint")) {
                return Optional.of("it has a parent disk (" + line + "); export the box without snapshots");
            }
            m = EXTENT.matcher(line);
            if (m.matches()) {
                extents.add(new String[] {m.group(3), m.group(4)});
            }
        }
        if (!"streamOptimized".equals(createType) && !"monolithicSparse".equals(createType)) {
            return Optional.of("its type is " + (createType == null ? "not given" : createType)
                    + "; only streamOptimized and monolithicSparse VMDKs are accepted");
        }
        if (parentCid != null && !parentCid.equalsIgnoreCase("ffffffff")) {
            return Optional.of("it has a parent disk (parentCID=" + parentCid + "); export the box without snapshots");
        }
        if (extents.size() != 1) {
            return Optional.of("it has " + extents.size() + " extents; only one, the file itself, is accepted");
        }
        String[] extent = extents.get(0);
        if (!extent[0].equals("SPARSE") || !extent[1].equals(fileName)) {
            return Optional.of("its extent is " + extent[0] + " \"" + extent[1] + "\"; only the file itself, as"
                    + " SPARSE, is accepted");
        }
        return Optional.empty();
    }
}
