package org.ievirsh.libvirt;

import java.util.Optional;

/**
 * BladeLink is the controller's line to one blade: it connects, reconnects
 * after a loss with capped backoff, and reports lifecycle events. While the
 * blade is reachable, {@link #hypervisor()} gives the calls to make on it.
 */
public interface BladeLink extends AutoCloseable {

    /** Listener hears of connections and events. Calls come from libvirt's event thread: never block. */
    interface Listener {
        void onConnected(String blade);

        void onDisconnected(String blade, String reason);

        void onEvent(LifecycleEvent event);

        /** An attempt to connect failed (the link tries again, with back-off). */
        default void onConnectFailed(String blade, String reason) {
        }
    }

    String blade();

    /** Starts connecting in the background; the listener hears when the blade is up. */
    void start(Listener listener);

    /** The blade's calls while it is connected. */
    Optional<Hypervisor> hypervisor();

    /**
     * Opens the serial console of domain {@code uuid} over a connection of
     * its own, which closes with the stream: what a console session does to
     * its connection (a paste the guest never reads) never holds up the
     * link's. With {@code force}, a session someone else has open ends.
     */
    default ConsoleStream openConsole(String uuid, boolean force) throws HypervisorException {
        return hypervisor().orElseThrow(() -> HypervisorException.disconnected(blade())).openConsole(uuid, force);
    }

    /** Tells the link that a call failed as if the connection were gone; it checks and reconnects. */
    void callFailed(HypervisorException failure);

    /** True once the first attempt to connect has ended, well or not. */
    boolean attempted();

    /** Why the blade is not connected, when it is not. */
    String lastError();

    @Override
    void close();
}
