package org.ievirsh.image;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * EmptyQcow2 builds a valid, empty qcow2 (version 3) image: header, one
 * refcount table, one refcount block and an L1 table, nothing allocated. The
 * demo uses it so that it needs nothing but the libvirt library (no qemu-img).
 */
public final class EmptyQcow2 {
    private static final int DEFAULT_CLUSTER_BITS = 16;

    private EmptyQcow2() {
    }

    /** The bytes of an empty image of {@code virtualSize} bytes, with QEMU's default 64 KiB clusters. */
    public static byte[] of(long virtualSize) {
        return of(virtualSize, DEFAULT_CLUSTER_BITS);
    }

    /** The bytes of an empty image with clusters of 2^{@code clusterBits} bytes (9 to 21); 4 clusters long. */
    public static byte[] of(long virtualSize, int clusterBits) {
        final int cluster = 1 << clusterBits;
        long perL2 = (long) cluster * (cluster / 8);
        int l1Size = (int) ((virtualSize + perL2 - 1) / perL2);
        if (l1Size * 8 > cluster) {
            throw new IllegalArgumentException("too large for one L1 cluster");
        }
        ByteBuffer b = ByteBuffer.allocate(4 * cluster).order(ByteOrder.BIG_ENDIAN);
        b.putInt(0, 0x514649fb);
        b.putInt(4, 3);
        b.putInt(20, clusterBits);
        b.putLong(24, virtualSize);
        b.putInt(36, l1Size);
        b.putLong(40, 3L * cluster);      // L1 table
        b.putLong(48, cluster);           // refcount table
        b.putInt(56, 1);                  // refcount table clusters
        b.putInt(96, 4);                  // refcount order: 16-bit refcounts
        b.putInt(100, 104);               // header length; the extension area (end marker) follows, all zero
        b.putLong(cluster, 2L * cluster); // refcount table entry 0 -> refcount block
        for (int index = 0; index < 4; index++) {
            b.putShort(2 * cluster + 2 * index, (short) 1);
        }
        return b.array();
    }
}
