package org.ievirsh.libvirt;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;
import org.libvirt.event.ConnectionCloseListener;
import org.libvirt.event.DomainEvent;
import org.libvirt.event.LifecycleListener;

/**
 * LibvirtBladeLink is {@link BladeLink} over libvirt-java: per blade, a
 * watch connection (events, and keepalive so that a hung libvirtd is noticed
 * in seconds) and {@link Lanes} for the calls, and a reconnect loop with
 * exponential backoff capped at 30 seconds. Connecting runs on the link's
 * own thread, so a blade that hangs delays only itself.
 */
public final class LibvirtBladeLink implements BladeLink {
    private static final Logger LOG = Logger.getLogger(LibvirtBladeLink.class.getName());
    /** Listener tables of libvirt-java are plain maps: all links register under this lock. */
    private static final Object REGISTRATION = new Object();
    /**
     * Connections are closed one at a time (the consoles' too): libvirt-java's close is not safe to run beside
     * another. Never under {@link #REGISTRATION}: a close may wait seconds for a wedged connection.
     */
    private static final Object CLOSING = new Object();
    static final Duration FIRST_RETRY = Duration.ofSeconds(1);
    static final Duration MAX_RETRY = Duration.ofSeconds(30);

    private final String blade;
    private final String uri;
    private final ScheduledExecutorService thread;
    private volatile LibvirtHypervisor current;
    private volatile String lastError = "not connected yet";
    private Listener listener;
    /** The listeners registered on the current connection (only the link's thread changes it). */
    private Registered registered;
    /** VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_STATE_CONNECTED. */
    private static final int AGENT_CONNECTED = 1;
    private Duration nextRetry = FIRST_RETRY;
    private volatile boolean closed;
    private volatile boolean attempted;

    public LibvirtBladeLink(String blade, String uri) {
        this.blade = blade;
        this.uri = uri;
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "blade-" + blade);
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public String blade() {
        return blade;
    }

    @Override
    public void start(Listener listener) {
        this.listener = listener;
        thread.execute(this::connect);
    }

    @Override
    public Optional<Hypervisor> hypervisor() {
        return Optional.ofNullable(current);
    }

    @Override
    public String lastError() {
        return lastError;
    }

    @Override
    public boolean attempted() {
        return attempted;
    }

    /** VIR_ERR_OPERATION_FAILED: libvirt's answer when another session holds the console. */
    private static final int VIR_ERR_OPERATION_FAILED = 9;
    private static final int VIR_ERR_NO_DOMAIN = 42;

    /**
     * Opens a console on a connection made for it alone, with keepalive (a
     * connection that libvirtd stops reading, because the guest does not take
     * what is pasted into it, is dropped in seconds and ends only this
     * session). The connection closes once the stream is freed. Made on the
     * caller's thread: a slow blade holds up only the student who asked.
     */
    @Override
    public ConsoleStream openConsole(String uuid, boolean force) throws HypervisorException {
        if (closed || current == null) {
            throw HypervisorException.disconnected(blade);
        }
        OpenConnection connection;
        try {
            connection = new OpenConnection(uri);
        } catch (LibvirtException e) {
            throw new HypervisorException(HypervisorException.Kind.CONNECTION_LOST, blade + ": cannot connect: "
                    + e.getMessage());
        }
        try {
            connection.setKeepAlive(1, 3);
        } catch (LibvirtException e) {
            // Local drivers have no keepalive.
        }
        VirtConsole.Stream stream;
        try {
            stream = VirtConsole.open(connection.pointer(), uuid, force, () -> closeConnection(connection));
        } catch (VirtConsole.Failure e) {
            closeConnection(connection);
            HypervisorException.Kind kind = e.code == VIR_ERR_NO_DOMAIN ? HypervisorException.Kind.NOT_FOUND
                    : e.code == VIR_ERR_OPERATION_FAILED ? HypervisorException.Kind.IN_USE
                    : HypervisorException.Kind.OTHER;
            throw new HypervisorException(kind, blade + ": " + e.getMessage());
        }
        return new ConsoleStream() {
            @Override
            public int read(byte[] buffer) throws java.io.IOException {
                return stream.read(buffer);
            }

            @Override
            public void write(byte[] data, int length) throws java.io.IOException {
                stream.write(data, length);
            }

            @Override
            public void close() {
                stream.close();
            }
        };
    }

    @Override
    public void callFailed(HypervisorException failure) {
        LibvirtHypervisor suspect = current;
        if (suspect != null && !closed) {
            thread.execute(() -> {
                if (suspect == current && !suspect.isAlive()) {
                    lost(suspect, failure.getMessage());
                }
            });
        }
    }

    private void connect() {
        if (closed || current != null) {
            return;
        }
        OpenConnection connection = null;
        LibvirtHypervisor hypervisor = null;
        try {
            EventLoop.ensureStarted();
            connection = new OpenConnection(uri);
            try {
                connection.setKeepAlive(1, 3);
            } catch (LibvirtException e) {
                // Local drivers (test:///) have no keepalive; they cannot hang on a network either.
            }
            OpenConnection watch = connection;
            hypervisor = new LibvirtHypervisor(blade, watch,
                    Lanes.inProcess(uri) ? Lanes.inProcess(blade, watch) : Lanes.open(blade, uri));
            registered = register(hypervisor);
            current = hypervisor;
            nextRetry = FIRST_RETRY;
            lastError = "";
            LOG.info(() -> "blade " + blade + ": connected to " + uri);
            attempted = true;
            listener.onConnected(blade);
        } catch (LibvirtException | RuntimeException e) {
            lastError = e.getMessage();
            LOG.warning("blade " + blade + ": cannot connect to " + uri + ": " + e.getMessage()
                    + "; retrying in " + nextRetry.toSeconds() + "s");
            Registered partly = registered;
            registered = null;
            if (hypervisor != null) {
                hypervisor.close(c -> closeQuietly(c, partly));
            } else if (connection != null) {
                closeQuietly(connection, partly);
            }
            attempted = true;
            listener.onConnectFailed(blade, lastError);
            scheduleRetry();
        }
    }

    /** Registered is what was registered on one connection, to be removed from it when it closes. */
    private record Registered(LifecycleListener lifecycle, org.libvirt.event.AgentLifecycleListener agent) {
    }

    private Registered register(LibvirtHypervisor hypervisor) throws LibvirtException {
        LifecycleListener lifecycle = (domain, event) -> {
            forward(domain, event);
            return 0;
        };
        ConnectionCloseListener closeListener = (connect, reason) -> {
            // Runs on libvirt's event thread: hand over and return.
            if (!closed) {
                thread.execute(() -> lost(hypervisor, "connection closed (" + reason + ")"));
            }
        };
        org.libvirt.event.AgentLifecycleListener agentLifecycle = (domain, state, reason) -> {
            try {
                if (state == AGENT_CONNECTED) {
                    listener.onEvent(new LifecycleEvent(blade, domain.getUUIDString(), domain.getName(),
                            LifecycleEvent.Kind.AGENT_CONNECTED, StopReason.UNKNOWN));
                }
            } catch (LibvirtException | RuntimeException e) {
                LOG.fine(() -> "blade " + blade + ": cannot read an agent event: " + e);
            } finally {
                try {
                    domain.free();
                } catch (LibvirtException ignored) {
                    // Only our reference to drop.
                }
            }
        };
        // Known before the first registration: a connection that fails half-way has that half removed.
        registered = new Registered(lifecycle, agentLifecycle);
        synchronized (REGISTRATION) {
            hypervisor.connect().addLifecycleListener(lifecycle);
            try {
                hypervisor.connect().addAgentLifecycleListener(agentLifecycle);
            } catch (LibvirtException e) {
                // Drivers without agents (the test driver) have no such event.
            }
            try {
                hypervisor.connect().registerCloseListener(closeListener);
            } catch (LibvirtException e) {
                // Drivers in this process (test:///) never close by themselves.
            }
        }
        return registered;
    }

    private void forward(Domain domain, DomainEvent event) {
        try {
            String uuid = domain.getUUIDString();
            String name = domain.getName();
            int detail = ((Enum<?>) event.getDetail()).ordinal();
            LifecycleEvent.Kind kind;
            StopReason reason = StopReason.UNKNOWN;
            switch (event.getType()) {
                case DEFINED: kind = LifecycleEvent.Kind.DEFINED; break;
                case UNDEFINED: kind = LifecycleEvent.Kind.UNDEFINED; break;
                case STARTED: kind = LifecycleEvent.Kind.STARTED; break;
                case STOPPED:
                    kind = LifecycleEvent.Kind.STOPPED;
                    reason = StopReason.fromStoppedEvent(detail);
                    break;
                case SUSPENDED: kind = LifecycleEvent.Kind.SUSPENDED; break;
                case RESUMED: kind = LifecycleEvent.Kind.RESUMED; break;
                case SHUTDOWN: kind = LifecycleEvent.Kind.SHUTDOWN; break;
                case CRASHED: kind = LifecycleEvent.Kind.CRASHED; break;
                default: kind = LifecycleEvent.Kind.OTHER; break;
            }
            listener.onEvent(new LifecycleEvent(blade, uuid, name, kind, reason));
        } catch (LibvirtException | RuntimeException e) {
            LOG.log(Level.WARNING, "blade " + blade + ": cannot read an event", e);
        } finally {
            try {
                domain.free();
            } catch (LibvirtException ignored) {
                // The event's domain reference is ours to drop; nothing else to do.
            }
        }
    }

    private void lost(LibvirtHypervisor hypervisor, String reason) {
        if (hypervisor != current) {
            return;
        }
        current = null;
        lastError = reason;
        LOG.warning("blade " + blade + ": " + reason + "; reconnecting");
        listener.onDisconnected(blade, reason);
        // Closing waits for the calls still in flight on the old connection; the new one is not made to wait
        // for them.
        Registered was = registered;
        registered = null;
        Thread closer = new Thread(() -> hypervisor.close(c -> closeQuietly(c, was)), "blade-" + blade + "-close");
        closer.setDaemon(true);
        closer.start();
        scheduleRetry();
    }

    /** The wait after {@code retry}: twice as long, at most {@link #MAX_RETRY}. */
    static Duration after(Duration retry) {
        Duration twice = retry.multipliedBy(2);
        return twice.compareTo(MAX_RETRY) > 0 ? MAX_RETRY : twice;
    }

    private void scheduleRetry() {
        if (closed) {
            return;
        }
        Duration delay = nextRetry;
        nextRetry = after(nextRetry);
        thread.schedule(this::connect, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static void closeQuietly(org.libvirt.Connect connection, Registered listeners) {
        synchronized (REGISTRATION) {
            try {
                if (listeners != null) {
                    connection.removeLifecycleListener(listeners.lifecycle());
                }
            } catch (LibvirtException | RuntimeException ignored) {
                // A dead connection cannot deregister; closing it drops the registrations anyway.
            }
            try {
                if (listeners != null) {
                    connection.removeAgentLifecycleListener(listeners.agent());
                }
            } catch (LibvirtException | RuntimeException ignored) {
                // Same as above.
            }
            try {
                connection.unregisterCloseListener();
            } catch (LibvirtException | RuntimeException ignored) {
                // Same as above.
            }
        }
        closeConnection(connection);
    }

    static void closeConnection(org.libvirt.Connect connection) {
        synchronized (CLOSING) {
            try {
                connection.close();
            } catch (LibvirtException | RuntimeException ignored) {
                // Closing a dead connection fails; its resources are released all the same.
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.execute(() -> {
            LibvirtHypervisor hypervisor = current;
            current = null;
            Registered was = registered;
            registered = null;
            if (hypervisor != null) {
                hypervisor.close(c -> closeQuietly(c, was));
            }
        });
        thread.shutdown();
        try {
            thread.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
