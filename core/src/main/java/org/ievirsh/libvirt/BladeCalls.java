package org.ievirsh.libvirt;

import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.Error.ErrorNumber;
import org.libvirt.LibvirtException;

/**
 * BladeCalls carries the calls of one blade for {@link LibvirtHypervisor}:
 * each on one of the blade's {@link Lanes}, on a domain looked up by UUID and
 * freed after (so that closing a connection really closes it), with
 * libvirt's error turned into a {@link HypervisorException}. It says whether
 * the blade lives, and never closes a connection under a call in flight
 * (libvirt would use freed memory).
 */
final class BladeCalls {
    private final String blade;
    private final OpenConnection watch;
    private final Lanes lanes;
    /** Held while the watch connection is asked whether it lives; the close waits for that. */
    private final ReentrantReadWriteLock asking = new ReentrantReadWriteLock();
    private volatile boolean closed;

    BladeCalls(String blade, OpenConnection watch, Lanes lanes) {
        this.blade = blade;
        this.watch = watch;
        this.lanes = lanes;
    }

    String blade() {
        return blade;
    }

    /** The watch connection, on which the link registers its listeners. */
    Connect watch() {
        return watch;
    }

    Lanes lanes() {
        return lanes;
    }

    /** A call on a lane of this blade. */
    <T, E extends Exception> T call(Lanes.Call<T, E> call) throws E, HypervisorException {
        return lanes.call(call, null);
    }

    interface DomainCall<T> {
        T apply(Domain domain) throws LibvirtException;
    }

    /** A call on domain {@code uuid}, on a lane of this blade. */
    <T> T onDomain(String uuid, DomainCall<T> call) throws HypervisorException {
        return call(c -> onDomain(c, uuid, call));
    }

    /** A call on domain {@code uuid} as {@code connection} sees it, the domain freed after. */
    <T> T onDomain(Connect connection, String uuid, DomainCall<T> call) throws HypervisorException {
        Domain domain;
        try {
            domain = connection.domainLookupByUUIDString(uuid);
        } catch (LibvirtException e) {
            throw translate(e, "look up " + uuid);
        }
        try {
            return call.apply(domain);
        } catch (LibvirtException e) {
            throw translate(e, uuid);
        } finally {
            try {
                domain.free();
            } catch (LibvirtException ignored) {
                // Freeing only drops our reference; a failure leaves nothing to undo.
            }
        }
    }

    /** Libvirt's error as the controller reads it: what kind, and the blade and call in the message. */
    HypervisorException translate(LibvirtException e, String what) {
        ErrorNumber code = e.getError() == null ? ErrorNumber.VIR_ERR_UNKNOWN : e.getError().getCode();
        String message = e.getError() != null && e.getError().getMessage() != null
                ? e.getError().getMessage() : e.getMessage();
        HypervisorException.Kind kind = LibvirtErrors.kindOf(code, message, this::isAlive);
        return new HypervisorException(kind, blade + ": " + what + ": " + message);
    }

    /** True while the watch connection and every lane work; false once it is closed. */
    boolean isAlive() {
        asking.readLock().lock();
        try {
            return !closed && !lanes.broken() && watch.isAlive();
        } catch (LibvirtException e) {
            return false;
        } finally {
            asking.readLock().unlock();
        }
    }

    /**
     * Refuses new calls, releases the callers waiting, closes each lane once
     * its call returns, then runs {@code closer} on the watch connection.
     */
    void close(Consumer<Connect> closer) {
        closed = true;
        asking.writeLock().lock();  // the questions in flight are answered; later ones see closed
        asking.writeLock().unlock();
        if (!lanes.close(closer)) {
            closer.accept(watch);
        }
    }
}
