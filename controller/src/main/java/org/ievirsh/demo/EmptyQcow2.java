package org.ievirsh.demo;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * EmptyQcow2 builds a valid, empty qcow2 (version 3) image: header, one
 * refcount table, one refcount block and an L1 table, nothing allocated. The
 * demo uses it so that it needs nothing but the libvirt library (no qemu-img).
 */
public final class EmptyQcow2 {
    private static final int CLUSTER_BITS = 16;
    private static final int CLUSTER = 1 << CLUSTER_BITS;

    private EmptyQcow2() {
    }

    /** The bytes of an empty image of {@code virtualSize} bytes. */
    public static byte[] of(long virtualSize) {
        long perL2 = (long) CLUSTER * (CLUSTER / 8);
        int l1Size = (int) ((virtualSize + perL2 - 1) / perL2);
        if (l1Size * 8 > CLUSTER) {
            throw new IllegalArgumentException("too large for one L1 cluster");
        }
        ByteBuffer b = ByteBuffer.allocate(4 * CLUSTER).order(ByteOrder.BIG_ENDIAN);
        b.putInt(0, 0x514649fb);
        b.putInt(4, 3);
        b.putInt(20, CLUSTER_BITS);
        b.putLong(24, virtualSize);
        b.putInt(36, l1Size);
        b.putLong(40, 3L * CLUSTER);      // L1 table
        b.putLong(48, CLUSTER);           // refcount table
        b.putInt(56, 1);                  // refcount table clusters
        b.putInt(96, 4);                  // refcount order: 16-bit refcounts
        b.putInt(100, 104);               // header length; the extension area (end marker) follows, all zero
        b.putLong(CLUSTER, 2L * CLUSTER); // refcount table entry 0 -> refcount block
        for (int cluster = 0; cluster < 4; cluster++) {
            b.putShort(2 * CLUSTER + 2 * cluster, (short) 1);
        }
        return b.array();
    }
}
