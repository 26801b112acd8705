package org.ievirsh.posix;

import com.sun.jna.LastErrorException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * Systemd speaks the service manager's notify protocol ({@code sd_notify}):
 * one datagram of {@code KEY=value} lines to the UNIX socket named by
 * {@code $NOTIFY_SOCKET} (a path, or {@code @name} in the abstract
 * namespace). Without that variable (not under systemd, or not
 * {@code Type=notify}) every call does nothing.
 */
public final class Systemd {
    private final byte[] address;
    private final int addressLength;
    private final Optional<Duration> watchdog;

    private Systemd(byte[] address, int addressLength, Optional<Duration> watchdog) {
        this.address = address;
        this.addressLength = addressLength;
        this.watchdog = watchdog;
    }

    /** The notifier of this process's environment. */
    public static Systemd fromEnvironment() {
        return of(System.getenv(), ProcessHandle.current().pid());
    }

    static Systemd of(Map<String, String> env, long pid) {
        String socket = env.get("NOTIFY_SOCKET");
        Optional<Duration> watchdog = Optional.empty();
        String usec = env.get("WATCHDOG_USEC");
        String forPid = env.get("WATCHDOG_PID");
        if (usec != null && (forPid == null || forPid.equals(Long.toString(pid)))) {
            try {
                watchdog = Optional.of(Duration.ofNanos(Long.parseLong(usec) * 1000)).filter(d -> !d.isZero());
            } catch (NumberFormatException ignored) {
                // A watchdog nobody can read is none.
            }
        }
        if (socket == null || socket.isEmpty() || socket.length() > 107
                || !(socket.startsWith("/") || socket.startsWith("@"))) {
            return new Systemd(null, 0, watchdog);
        }
        byte[] path = socket.getBytes(StandardCharsets.UTF_8);
        byte[] address = new byte[2 + 108];
        address[0] = (byte) LibC.AF_UNIX;  // sa_family_t, little-endian
        System.arraycopy(path, 0, address, 2, path.length);
        if (path[0] == '@') {
            address[2] = 0;  // the abstract namespace: a leading NUL, and no terminating one
            return new Systemd(address, 2 + path.length, watchdog);
        }
        return new Systemd(address, 2 + path.length + 1, watchdog);
    }

    /** True under a service manager that listens. */
    public boolean enabled() {
        return address != null;
    }

    /** The service's WatchdogSec, when the manager wants {@code WATCHDOG=1} at least that often. */
    public Optional<Duration> watchdog() {
        return watchdog;
    }

    /** Sends {@code state} ("READY=1", "WATCHDOG=1", "STATUS=..."); false when it could not be sent. */
    public boolean notify(String state) {
        if (address == null) {
            return false;
        }
        int fd;
        try {
            fd = LibC.socket(LibC.AF_UNIX, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0);
        } catch (LastErrorException e) {
            return false;
        }
        try {
            byte[] message = state.getBytes(StandardCharsets.UTF_8);
            LibC.sendto(fd, message, message.length, 0, address, addressLength);
            return true;
        } catch (LastErrorException e) {
            return false;
        } finally {
            try {
                LibC.close(fd);
            } catch (LastErrorException ignored) {
                // The datagram is sent or not; the socket is gone either way.
            }
        }
    }
}
