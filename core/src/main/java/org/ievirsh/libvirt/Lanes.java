package org.ievirsh.libvirt;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Logger;
import org.libvirt.LibvirtException;

/**
 * Lanes are a blade's connections for calls, each carrying one call at a
 * time. libvirt's client (9.0 here, Debian 12) crashes the process when
 * calls share a connection: a call whose wait another thread interrupts
 * (another call, or a keepalive ping the event loop sends) leaves its
 * socket watch behind, pointing into its stack, and the next call on that
 * connection runs it (virNetClientIOEventFD; libvirt fixed it in 10.4).
 * So a lane has one caller at a time and no keepalive, and each call runs
 * on the lane's own thread: the caller waits for the result or for the
 * blade's connection to be declared lost (the watch connection's keepalive
 * notices a hung libvirtd), whichever comes first. A lane whose call hangs
 * is left to finish on its thread, which then closes it.
 *
 * <p>In-process drivers (test:///) have one lane, the watch connection
 * itself, called on the caller's thread: each connection to them would be
 * a world of its own, and they have no socket to share.
 */
final class Lanes {
    private static final Logger LOG = Logger.getLogger(Lanes.class.getName());
    /** LANES is how many calls may run at once on one blade. */
    static final int LANES = 4;

    private final String blade;
    private final BlockingQueue<Lane> idle = new LinkedBlockingQueue<>();
    private final List<Lane> all;
    private final CompletableFuture<Void> lost = new CompletableFuture<>();
    private volatile boolean broken;

    private Lanes(String blade, List<Lane> lanes) {
        this.blade = blade;
        this.all = List.copyOf(lanes);
        idle.addAll(lanes);
    }

    /** One lane that is {@code watch} itself, for drivers in this process. */
    static Lanes inProcess(String blade, OpenConnection watch) {
        return new Lanes(blade, List.of(new Lane(blade, 0, watch, false, false)));
    }

    /** {@link #LANES} new connections to {@code uri}, each with a thread of its own. */
    static Lanes open(String blade, String uri) throws LibvirtException {
        List<Lane> lanes = new ArrayList<>();
        try {
            for (int i = 0; i < LANES; i++) {
                lanes.add(new Lane(blade, i, new OpenConnection(uri), true, true));
            }
        } catch (LibvirtException | RuntimeException e) {
            lanes.forEach(Lane::retire);
            throw e;
        }
        return new Lanes(blade, lanes);
    }

    /** True when {@code uri} names a driver in this process, which has no socket and one state per connection. */
    static boolean inProcess(String uri) {
        return uri.startsWith("test:");
    }

    interface Call<T, E extends Exception> {
        T run(OpenConnection connection) throws E, HypervisorException;
    }

    /**
     * Runs {@code call} on an idle lane; throws CONNECTION_LOST once this
     * blade is lost, or {@code alsoWatched}'s (may be null) whose lane the call uses too.
     */
    <T, E extends Exception> T call(Call<T, E> call, Lanes alsoWatched) throws E, HypervisorException {
        Lane lane = borrow(null);
        try {
            return lane.run(call, alsoWatched == null ? lost : CompletableFuture.anyOf(lost, alsoWatched.lost),
                    alsoWatched == null ? blade : blade + " or " + alsoWatched.blade);
        } finally {
            giveBack(lane);
        }
    }

    /**
     * Takes an idle lane for the caller alone until {@link #giveBack} (a live
     * migration uses the destination's connection from the source's call).
     */
    Lane borrow(java.time.Duration atMost) throws HypervisorException {
        long until = atMost == null ? Long.MAX_VALUE : System.nanoTime() + atMost.toNanos();
        while (true) {
            if (lost.isDone()) {
                throw HypervisorException.disconnected(blade);
            }
            if (System.nanoTime() - until > 0) {
                throw new HypervisorException(HypervisorException.Kind.OTHER, blade + ": every connection is busy");
            }
            try {
                Lane lane = idle.poll(200, TimeUnit.MILLISECONDS);
                if (lane != null) {
                    return lane;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HypervisorException(HypervisorException.Kind.OTHER, blade + ": interrupted");
            }
        }
    }

    void giveBack(Lane lane) {
        if (lane.hung()) {
            return;  // its thread closes it once the call returns
        }
        if (lane.ownConnection && !lane.alive()) {
            // A lane that lost its daemon is the blade's loss: the link makes every connection again.
            broken = true;
            lane.retire();
            return;
        }
        idle.add(lane);
        if (lost.isDone()) {
            retireIdle();  // close() may have run while this lane was out
        }
    }

    /** True once a lane found its connection closed. */
    boolean broken() {
        return broken;
    }

    /** True once {@link #close} was called. */
    boolean closed() {
        return lost.isDone();
    }

    /**
     * Refuses new calls, releases the callers still waiting, and closes
     * each lane once its call returns (idle ones now). {@code closer} closes
     * the in-process lane, which is the watch connection: true when it did.
     */
    boolean close(Consumer<? super OpenConnection> closer) {
        lost.complete(null);
        retireIdle();
        boolean watchClosed = false;
        for (Lane lane : all) {
            if (!lane.ownConnection) {
                synchronized (lane) {  // after the call in flight, if any
                    closer.accept(lane.connection);
                }
                watchClosed = true;
            }
        }
        return watchClosed;
    }

    private void retireIdle() {
        Lane lane;
        while ((lane = idle.poll()) != null) {
            lane.retire();
        }
    }

    /** Lane is one connection and, for a daemon's, the one thread that calls on it. */
    static final class Lane {
        final OpenConnection connection;
        private final boolean ownConnection;
        private final java.util.concurrent.ExecutorService thread;
        private volatile boolean hung;
        private final java.util.concurrent.atomic.AtomicBoolean retired = new java.util.concurrent.atomic.AtomicBoolean();

        private Lane(String blade, int n, OpenConnection connection, boolean ownConnection,
                boolean ownThread) {
            this.connection = connection;
            this.ownConnection = ownConnection;
            this.thread = ownThread ? java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "blade-" + blade + "-lane-" + n);
                t.setDaemon(true);
                return t;
            }) : null;
        }

        boolean hung() {
            return hung;
        }

        /** Asked only by the lane's holder: never beside a call or the close. */
        boolean alive() {
            try {
                return connection.isAlive();
            } catch (LibvirtException e) {
                return false;
            }
        }

        @SuppressWarnings("unchecked")
        <T, E extends Exception> T run(Call<T, E> call, CompletableFuture<?> lost, String blade)
                throws E, HypervisorException {
            if (thread == null) {
                synchronized (this) {
                    if (lost.isDone()) {
                        throw HypervisorException.disconnected(blade);
                    }
                    return call.run(connection);
                }
            }
            CompletableFuture<T> result = new CompletableFuture<>();
            thread.execute(() -> {
                try {
                    result.complete(call.run(connection));
                } catch (Throwable t) {
                    result.completeExceptionally(t);
                }
                if (hung) {
                    retire();
                }
            });
            try {
                CompletableFuture.anyOf(result, lost).get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | CancellationException e) {
                // Read below from the result itself.
            }
            if (!result.isDone()) {
                // The blade was lost under this call: the caller goes, the call finishes (or not) on its own.
                hung = true;
                if (result.isDone()) {
                    hung = false;  // finished in between: the lane is fine
                } else {
                    throw new HypervisorException(HypervisorException.Kind.CONNECTION_LOST,
                            "blade " + blade + " was lost during the call");
                }
            }
            try {
                return result.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HypervisorException(HypervisorException.Kind.OTHER, "interrupted");
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof HypervisorException h) {
                    throw h;
                }
                if (cause instanceof RuntimeException r) {
                    throw r;
                }
                if (cause instanceof Error err) {
                    throw err;
                }
                throw (E) cause;
            }
        }

        /** Closes the connection (a lane of its own) and ends its thread. */
        void retire() {
            if (retired.getAndSet(true)) {
                return;
            }
            if (thread != null) {
                thread.shutdown();
            }
            if (ownConnection) {
                LibvirtBladeLink.closeConnection(connection);
                LOG.fine(() -> "lane closed");
            }
        }
    }
}
