package org.ievirsh.libvirt;

import java.util.logging.Level;
import java.util.logging.Logger;
import org.libvirt.Connect;
import org.libvirt.LibvirtException;
import org.libvirt.Library;

/**
 * EventLoop starts libvirt's default event loop once per process, on a
 * daemon thread of its own. Lifecycle events, close notices and keepalive
 * all need it, and it must run before the first connection opens.
 */
public final class EventLoop {
    private static final Logger LOG = Logger.getLogger(EventLoop.class.getName());
    private static boolean started;

    private EventLoop() {
    }

    /** Starts the loop if it is not running yet; silences libvirt's own printing of errors to stderr. */
    public static synchronized void ensureStarted() {
        if (started) {
            return;
        }
        try {
            // Errors reach us as exceptions; without a callback libvirt also prints each one.
            Connect.setErrorCallback((userData, error) -> { });
            Library.initEventLoop();
        } catch (LibvirtException e) {
            throw new IllegalStateException("cannot start libvirt's event loop: " + e.getMessage(), e);
        }
        Thread loop = new Thread(() -> {
            try {
                Library.runEventLoop();
            } catch (LibvirtException e) {
                LOG.log(Level.SEVERE, "libvirt's event loop stopped", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "libvirt-events");
        loop.setDaemon(true);
        loop.start();
        started = true;
    }
}
