package org.ievirsh.libvirt;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Hypervisor is the narrow set of libvirt calls the controller makes on one
 * blade. Domains are named by UUID. Every call may block on the network, so
 * none is ever made on an event loop thread.
 */
public interface Hypervisor {

    /** The blade's name from the config. */
    String blade();

    /** Every domain of the blade with its state, in one bulk call. */
    List<DomainSummary> listAll() throws HypervisorException;

    /** One domain's current state (stop reason UNKNOWN); empty when it does not exist. */
    Optional<DomainSummary> lookup(String uuid) throws HypervisorException;

    /**
     * The text of the project's metadata element of a domain, from its
     * persistent definition ({@code live == false}) or the running one;
     * empty when the domain has none.
     */
    Optional<String> metadata(String uuid, String namespace, boolean live) throws HypervisorException;

    /** The persistent definition of a domain as libvirt stores it. */
    String definitionXml(String uuid) throws HypervisorException;

    /** Defines (or redefines, when the UUID exists) a domain; returns its UUID. */
    String define(String xml) throws HypervisorException;

    void start(String uuid) throws HypervisorException;

    /**
     * Defines a domain and starts it at once (one lookup fewer than define
     * then start); returns its UUID. When the start fails after the define,
     * the exception says so ({@link HypervisorException#definedFirst}).
     */
    default String defineAndStart(String xml) throws HypervisorException {
        String uuid = define(xml);
        try {
            start(uuid);
        } catch (HypervisorException e) {
            throw e.afterDefine();
        }
        return uuid;
    }

    /** Asks the guest to power off (ACPI); returns at once. */
    void shutdown(String uuid) throws HypervisorException;

    /** Forces the domain off. */
    void destroy(String uuid) throws HypervisorException;

    /** Removes the definition (and NVRAM); never touches disks. */
    void undefine(String uuid) throws HypervisorException;

    /** CPUs and memory of the blade itself. */
    NodeResources nodeResources() throws HypervisorException;

    /** CPU time and memory of every running domain, in one bulk call, by UUID. */
    Map<String, DomainUsage> usage() throws HypervisorException;

    /** Where a guest's addresses are asked: its guest agent, or the blade's neighbour (ARP) table. */
    enum AddressSource { AGENT, ARP }

    /** GuestNic is one NIC of a running guest as a source reports it: its MAC and the IPv4 addresses on it. */
    record GuestNic(String mac, List<String> ipv4) {
    }

    /**
     * The NICs of a running domain with their IPv4 addresses, as
     * {@code source} reports them (the agent's answer is the guest's word).
     */
    default List<GuestNic> interfaceAddresses(String uuid, AddressSource source) throws HypervisorException {
        throw new HypervisorException(HypervisorException.Kind.OTHER, blade() + ": no addresses from " + source);
    }

    /**
     * How a domain moves: the destination's migration URI ({@code tcp://host};
     * empty: libvirt's choice), MiB/s at most, and VIR_MIGRATE_UNSAFE.
     */
    record MoveOptions(java.util.Optional<String> migrateUri, java.util.OptionalLong bandwidthMiBs, boolean unsafe) {
    }

    /**
     * Moves domain {@code uuid} to {@code destination} (another blade's
     * connection): a running one by live migration, its definition with it
     * (the source's is removed); a stopped one by defining it there and
     * removing it here. Blocks until the move ended; a failed move leaves the
     * domain where it was.
     */
    default void migrate(String uuid, Hypervisor destination, boolean live, MoveOptions options)
            throws HypervisorException {
        throw new HypervisorException(HypervisorException.Kind.OTHER, blade() + ": cannot migrate");
    }

    /** Aborts the job (a migration) under way on domain {@code uuid}. */
    default void abortJob(String uuid) throws HypervisorException {
        throw new HypervisorException(HypervisorException.Kind.OTHER, blade() + ": cannot abort jobs");
    }

    /**
     * Takes internal snapshot {@code name} of running domain {@code uuid}
     * (its disks and its memory, by QEMU itself), kept in libvirt's
     * metadata so that it can be reverted running.
     */
    default void snapshotCreate(String uuid, String name) throws HypervisorException {
        throw new HypervisorException(HypervisorException.Kind.OTHER, blade() + ": no snapshots here");
    }

    /** Reverts domain {@code uuid} to snapshot {@code name} of libvirt's metadata (running, if taken running). */
    default void snapshotRevert(String uuid, String name) throws HypervisorException {
        throw new HypervisorException(HypervisorException.Kind.OTHER, blade() + ": no snapshots here");
    }

    /** Deletes snapshot {@code name} of running domain {@code uuid}: from its image (by QEMU) and the metadata. */
    default void snapshotDelete(String uuid, String name) throws HypervisorException {
        throw new HypervisorException(HypervisorException.Kind.OTHER, blade() + ": no snapshots here");
    }

    /** Forgets libvirt's record of snapshot {@code name} of {@code uuid}; the image is not touched. */
    default void snapshotForget(String uuid, String name) throws HypervisorException {
        throw new HypervisorException(HypervisorException.Kind.OTHER, blade() + ": no snapshots here");
    }

    /** The snapshots libvirt keeps a record of for {@code uuid}. */
    default List<String> snapshotNames(String uuid) throws HypervisorException {
        return List.of();
    }

    /**
     * Opens the serial console of a running domain over this connection; with
     * {@code force}, a session someone else has open ends.
     */
    default ConsoleStream openConsole(String uuid, boolean force) throws HypervisorException {
        throw new HypervisorException(HypervisorException.Kind.OTHER, blade() + ": no console here");
    }
}
