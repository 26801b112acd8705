package org.ievirsh.libvirt;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * VirtConsole binds what libvirt-java 0.5.4 lacks for a serial console and
 * for a shutdown that never waits on the guest: {@code virDomainOpenConsole}
 * on a {@code virStream} of the controller's own connection, the stream's
 * blocking send and receive, and {@code virDomainShutdownFlags}. Everything
 * is declared here through JNA on raw pointers: the connection's comes from
 * the binding's protected field (see {@link LibvirtHypervisor.OpenConnection});
 * no package-private part of the binding is used.
 */
final class VirtConsole {
    /** VIR_DOMAIN_CONSOLE_FORCE: end a session someone else has open. */
    static final int CONSOLE_FORCE = 1;
    /** VIR_DOMAIN_CONSOLE_SAFE: refuse unless the driver can tell of a second session. */
    static final int CONSOLE_SAFE = 2;
    /** VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN: the power button, never the guest agent (which a guest may hang). */
    static final int SHUTDOWN_ACPI = 1;

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
            Pointer stream = virStreamNew(connection, 0);
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
     * Stream is one open console: {@link #read} blocks until the guest writes
     * (-1 at the end: the domain stopped, or another session forced this
     * one off); {@link #close} aborts it, which also ends a read under way.
     * The native stream is freed once both the reader is out and it was
     * closed, never while a call is in it.
     */
    static final class Stream {
        private final Pointer stream;
        private final Runnable afterFree;
        private final AtomicBoolean ended = new AtomicBoolean();
        private final Object calls = new Object();
        private int inCall;
        private boolean freed;

        private Stream(Pointer stream, Runnable afterFree) {
            this.stream = stream;
            this.afterFree = afterFree;
        }

        private boolean enter() {
            synchronized (calls) {
                if (freed || ended.get()) {
                    return false;
                }
                inCall++;
                return true;
            }
        }

        private void leave() {
            synchronized (calls) {
                inCall--;
                freeIfDone();
            }
        }

        private void freeIfDone() {
            if (ended.get() && inCall == 0 && !freed) {
                freed = true;
                virStreamFree(stream);
                afterFree.run();
            }
        }

        int read(byte[] buffer) throws IOException {
            if (!enter()) {
                return -1;
            }
            try {
                int n = virStreamRecv(stream, buffer, buffer.length);
                if (n == 0) {
                    return -1;
                }
                if (n < 0) {
                    if (ended.get()) {
                        return -1;
                    }
                    throw new IOException("console: " + virGetLastErrorMessage());
                }
                return n;
            } finally {
                leave();
            }
        }

        void write(byte[] data, int length) throws IOException {
            if (!enter()) {
                throw new IOException("console closed");
            }
            try {
                byte[] chunk = length == data.length ? data : java.util.Arrays.copyOf(data, length);
                int done = 0;
                while (done < length) {
                    byte[] rest = done == 0 ? chunk : java.util.Arrays.copyOfRange(chunk, done, length);
                    int n = virStreamSend(stream, rest, rest.length);
                    if (n < 0) {
                        throw new IOException("console: " + virGetLastErrorMessage());
                    }
                    done += n;
                }
            } finally {
                leave();
            }
        }

        /** Ends the stream (a read under way returns); idempotent. */
        void close() {
            if (ended.compareAndSet(false, true)) {
                virStreamAbort(stream);
                synchronized (calls) {
                    freeIfDone();
                }
            }
        }
    }
}
