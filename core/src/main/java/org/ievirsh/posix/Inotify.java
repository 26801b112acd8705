package org.ievirsh.posix;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.logging.Logger;

/**
 * Inotify watches directories through the kernel's inotify directly, for
 * the events Java's WatchService does not offer: a file closed after it was
 * written ({@code IN_CLOSE_WRITE}: an upload finished) and a file moved in
 * ({@code IN_MOVED_TO}: rsync's rename), without the modification events a
 * running VM's disk would send all the time. Each watched directory is
 * opened without following a link. Events come on a thread of its own.
 */
public final class Inotify implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Inotify.class.getName());
    private static final int IN_NONBLOCK = 04000;
    private static final int IN_CLOEXEC = 02000000;
    /** What a change of a directory's files is: closed after writing, moved in or out, made, removed, chmod. */
    public static final int FILES_CHANGED = 0x8 | 0x40 | 0x80 | 0x100 | 0x200 | 0x4;
    /** A file written (and kept open: a DHCP server appending to its lease file). */
    public static final int MODIFIED = 0x2;
    private static final int IN_DELETE_SELF = 0x400;
    private static final int IN_MOVE_SELF = 0x800;
    private static final int IN_IGNORED = 0x8000;
    private static final int IN_ONLYDIR = 0x1000000;
    private static final int IN_DONT_FOLLOW = 0x2000000;
    private static final int IN_EXCL_UNLINK = 0x4000000;
    private static final short POLLIN = 1;

    static {
        if (!Platform.isLinux()) {
            throw new UnsupportedOperationException("ie-virsh runs on Linux only");
        }
        Native.register(Inotify.class, Platform.C_LIBRARY_NAME);
    }

    private static native int inotify_init1(int flags) throws LastErrorException;

    private static native int inotify_add_watch(int fd, byte[] path, int mask) throws LastErrorException;

    private static native int inotify_rm_watch(int fd, int wd);

    private static native long read(int fd, byte[] buffer, long count);

    private static native int poll(byte[] fds, long nfds, int timeout);

    private static native int close(int fd);

    private final int fd;
    private final BiConsumer<String, String> changed;
    private final Map<Integer, String> byWatch = new HashMap<>();
    private final Map<String, Integer> byKey = new HashMap<>();
    private final Thread thread;
    private volatile boolean running = true;

    /**
     * {@code changed} hears the key of a watched directory and the name of
     * the entry that changed in it (empty when the directory itself went away).
     */
    public Inotify(String name, BiConsumer<String, String> changed) throws PosixException {
        try {
            this.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        } catch (LastErrorException e) {
            throw new PosixException("inotify_init1", name, e.getErrorCode());
        }
        this.changed = changed;
        this.thread = new Thread(this::run, name);
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /**
     * Watches directory {@code path} for {@code key}; the key is heard when
     * its files change. A directory already watched for the key stays.
     * Returns false when it cannot be watched (missing, a link, no room).
     */
    public synchronized boolean watch(String key, String path) {
        return watch(key, path, 0);
    }

    /** The same, also for the events of {@code extra} (like {@link #MODIFIED}). */
    public synchronized boolean watch(String key, String path, int extra) {
        if (byKey.containsKey(key)) {
            return true;
        }
        try {
            int wd = inotify_add_watch(fd, LibC.cString(path), FILES_CHANGED | extra | IN_DELETE_SELF | IN_MOVE_SELF
                    | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK);
            byWatch.put(wd, key);
            byKey.put(key, wd);
            return true;
        } catch (LastErrorException e) {
            return false;
        }
    }

    /** Stops watching what is not in {@code keep}. */
    public synchronized void keepOnly(java.util.Set<String> keep) {
        for (String key : java.util.List.copyOf(byKey.keySet())) {
            if (!keep.contains(key)) {
                Integer wd = byKey.remove(key);
                byWatch.remove(wd);
                inotify_rm_watch(fd, wd);
            }
        }
    }

    /** How many directories are watched now. */
    public synchronized int size() {
        return byKey.size();
    }

    private void run() {
        byte[] buffer = new byte[64 * 1024];
        byte[] pollfd = new byte[8];
        ByteBuffer.wrap(pollfd).order(ByteOrder.nativeOrder()).putInt(0, fd).putShort(4, POLLIN);
        while (running) {
            if (poll(pollfd, 1, 500) <= 0) {
                continue;
            }
            long n = read(fd, buffer, buffer.length);
            if (n <= 0) {
                continue;
            }
            ByteBuffer events = ByteBuffer.wrap(buffer, 0, (int) n).order(ByteOrder.nativeOrder());
            java.util.Set<java.util.Map.Entry<String, String>> keys = new java.util.LinkedHashSet<>();
            while (events.remaining() >= 16) {
                int at = events.position();
                int wd = events.getInt(at);
                int mask = events.getInt(at + 4);
                int len = events.getInt(at + 12);
                int nameEnd = at + 16;
                while (nameEnd < at + 16 + len && nameEnd < events.limit() && buffer[nameEnd] != 0) {
                    nameEnd++;
                }
                String entry = new String(buffer, at + 16, nameEnd - at - 16, StandardCharsets.UTF_8);
                events.position(Math.min(events.limit(), at + 16 + len));
                String key;
                synchronized (this) {
                    key = byWatch.get(wd);
                    if ((mask & IN_IGNORED) != 0 && key != null) {
                        byWatch.remove(wd);
                        byKey.remove(key, wd);
                    }
                }
                if (key != null) {
                    boolean gone = (mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) != 0;
                    keys.add(java.util.Map.entry(key, gone ? "" : entry));
                }
            }
            for (java.util.Map.Entry<String, String> e : keys) {
                try {
                    changed.accept(e.getKey(), e.getValue());
                } catch (RuntimeException failure) {
                    LOG.warning("inotify: " + e.getKey() + ": " + failure);
                }
            }
        }
    }

    @Override
    public void close() {
        running = false;
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        close(fd);
    }
}
