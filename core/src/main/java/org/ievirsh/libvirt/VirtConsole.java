package org.ievirsh.libvirt;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.IOException;

/**
 * VirtConsole binds what libvirt-java 0.5.4 lacks for a serial console and
 * for a shutdown that never waits on the guest: {@code virDomainOpenConsole}
 * on a {@code virStream} of the controller's own connection, the stream's
 * blocking send and receive, and {@code virDomainShutdownFlags}. Everything
 * is declared here through JNA on raw pointers: the connection's comes from
 * the binding's protected field (see {@link OpenConnection});
 * no package-private part of the binding is used.
 */
final class VirtConsole {
    /** VIR_DOMAIN_CONSOLE_FORCE: end a session someone else has open. */
    static final int CONSOLE_FORCE = 1;
    /** VIR_DOMAIN_CONSOLE_SAFE: refuse unless the driver can tell of a second session. */
    static final int CONSOLE_SAFE = 2;
    /** VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN: the power button, never the guest agent (which a guest may hang). */
    static final int SHUTDOWN_ACPI = 1;
    /** VIR_STREAM_NONBLOCK: a receive with nothing there returns at once (-2) instead of waiting. */
    static final int STREAM_NONBLOCK = 1;
    /** How long a reader with nothing to read waits before it asks again, at most. */
    static final long POLL_MAX_MILLIS = 20;

    static {
        Native.register(VirtConsole.class, "virt");
    }

    private VirtConsole() {
    }

    private static native Pointer virDomainLookupByUUIDString(Pointer conn, String uuid);

    private static native int virDomainFree(Pointer domain);

    private static native int virDomainShutdownFlags(Pointer domain, int flags);

    private static native Pointer virStreamNew(Pointer conn, int flags);

    private static native int virDomainOpenConsole(Pointer domain, String device, Pointer stream, int flags);

    private static native int virStreamRecv(Pointer stream, byte[] data, long bytes);

    private static native int virStreamSend(Pointer stream, byte[] data, long bytes);

    private static native int virStreamFinish(Pointer stream);

    private static native int virStreamAbort(Pointer stream);

    private static native int virStreamFree(Pointer stream);

    private static native String virGetLastErrorMessage();

    private static native int virGetLastErrorCode();

    /** Failure is a failed call, with libvirt's message and error code. */
    static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;
        final int code;

        Failure(String what) {
            super(what + ": " + virGetLastErrorMessage());
            this.code = virGetLastErrorCode();
        }
    }

    /** Asks the guest to power off by the ACPI power button. */
    static void shutdownAcpi(Pointer connection, String uuid) throws Failure {
        Pointer domain = lookup(connection, uuid);
        try {
            if (virDomainShutdownFlags(domain, SHUTDOWN_ACPI) < 0) {
                throw new Failure("shutdown");
            }
        } finally {
            virDomainFree(domain);
        }
    }

    private static Pointer lookup(Pointer connection, String uuid) throws Failure {
        Pointer domain = virDomainLookupByUUIDString(connection, uuid);
        if (domain == null) {
            throw new Failure("look up " + uuid);
        }
        return domain;
    }

    /**
     * Opens the serial console of a domain on a blocking stream of
     * {@code connection}; {@code afterFree} runs once the stream is freed
     * (it may close the connection: nothing uses it any more).
     */
    static Stream open(Pointer connection, String uuid, boolean force, Runnable afterFree) throws Failure {
        Pointer domain = lookup(connection, uuid);
        try {
            Pointer stream = virStreamNew(connection, STREAM_NONBLOCK);
            if (stream == null) {
                throw new Failure("new stream");
            }
            if (virDomainOpenConsole(domain, null, stream, (force ? CONSOLE_FORCE : 0) | CONSOLE_SAFE) < 0) {
                Failure failure = new Failure("open console");
                virStreamFree(stream);
                throw failure;
            }
            return new Stream(stream, afterFree);
        } finally {
            virDomainFree(domain);
        }
    }

    /**
     * Stream is one open console: {@link #read} waits until the guest writes
     * (-1 at the end: the domain stopped, or another session forced this
     * one off); {@link #close} ends it, which also ends a read under way.
     *
     * <p>libvirt's streams are not safe to call from two threads at once: an
     * abort while another thread waits in a blocking receive frees what that
     * receive still uses (libvirt logs "is not a virObjectLockable instance",
     * then the process may crash). So the stream is non-blocking, every call
     * on it is made under one lock, and a reader with nothing to read waits
     * with the lock released, from 1 ms up to {@link #POLL_MAX_MILLIS} while
     * the guest is quiet (a send wakes it: the echo comes soon after).
     * Closing takes the lock too: it aborts and frees the stream between two
     * calls, never during one.
     */
    static final class Stream {
        private final Pointer stream;
        private final Runnable afterFree;
        private final Object calls = new Object();
        private boolean freed;
        /** Sends made so far: a reader waiting for output polls again soon after one. */
        private long writes;

        private Stream(Pointer stream, Runnable afterFree) {
            this.stream = stream;
            this.afterFree = afterFree;
        }

        int read(byte[] buffer) throws IOException {
            long pause = 1;
            synchronized (calls) {
                while (true) {
                    if (freed) {
                        return -1;
                    }
                    int n = virStreamRecv(stream, buffer, buffer.length);
                    if (n > 0) {
                        return n;
                    }
                    if (n == 0) {
                        end();  // the other end finished it: the domain stopped, or a session took over
                        return -1;
                    }
                    if (n == -1) {
                        String message = virGetLastErrorMessage();
                        end();
                        throw new IOException("console: " + message);
                    }
                    // -2, nothing yet: wait, the lock released; what the caller types wakes it (an echo follows).
                    long typed = writes;
                    try {
                        calls.wait(pause);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return -1;
                    }
                    pause = writes != typed ? 1 : Math.min(POLL_MAX_MILLIS, pause * 2);
                }
            }
        }

        void write(byte[] data, int length) throws IOException {
            int done = 0;
            while (done < length) {
                int n;
                synchronized (calls) {
                    if (freed) {
                        throw new IOException("console closed");
                    }
                    byte[] rest = done == 0 && length == data.length ? data
                            : java.util.Arrays.copyOfRange(data, done, length);
                    n = virStreamSend(stream, rest, rest.length);
                    if (n == -1) {
                        String message = virGetLastErrorMessage();
                        end();
                        throw new IOException("console: " + message);
                    }
                    writes++;
                    calls.notifyAll();
                }
                if (n == -2) {
                    try {
                        Thread.sleep(POLL_MAX_MILLIS);  // the guest's side is full: it is not reading
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted");
                    }
                } else {
                    done += n;
                }
            }
        }

        /** Ends the stream (a read under way returns -1); idempotent. */
        void close() {
            synchronized (calls) {
                if (!freed) {
                    virStreamAbort(stream);
                    end();
                    calls.notifyAll();
                }
            }
        }

        /** Frees the stream, then lets its connection go (under {@link #calls}). */
        private void end() {
            if (!freed) {
                freed = true;
                virStreamFree(stream);
                afterFree.run();
            }
        }
    }
}
