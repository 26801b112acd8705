package org.ievirsh.libvirt;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;
import org.libvirt.NodeInfo;

/**
 * LibvirtHypervisor is {@link Hypervisor} over one blade: what each call
 * asks of libvirt. {@link BladeCalls} carries them (a lane each, the domain
 * looked up and freed, the error translated) beside the watch connection
 * (events, keepalive, whether the blade is alive).
 */
final class LibvirtHypervisor implements Hypervisor {
    private static final int METADATA_ELEMENT = 2;
    private static final int AFFECT_LIVE = 1;
    private static final int AFFECT_CONFIG = 2;
    private static final int XML_INACTIVE = 2;
    private static final int UNDEFINE_NVRAM = 4;
    /** VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA: a domain with snapshots is undefined too (its image keeps them). */
    private static final int UNDEFINE_SNAPSHOTS_METADATA = 2;
    /** VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY: libvirt forgets a snapshot, the image keeps it. */
    private static final int SNAPSHOT_DELETE_METADATA_ONLY = 2;
    private static final int VIR_ERR_NO_DOMAIN = 42;
    private static final int VIR_ERR_OPERATION_INVALID = 55;

    private final String blade;
    private final BladeCalls calls;

    LibvirtHypervisor(String blade, OpenConnection watch, Lanes lanes) {
        this.blade = blade;
        this.calls = new BladeCalls(blade, watch, lanes);
    }

    @Override
    public String blade() {
        return blade;
    }

    /** The watch connection, on which the link registers its listeners. */
    Connect connect() {
        return calls.watch();
    }

    @Override
    public List<DomainSummary> listAll() throws HypervisorException {
        List<DomainSummary> domains = new ArrayList<>();
        for (VirtExtras.Record record : bulk(VirtExtras.STATS_STATE, 0)) {
            domains.add(LibvirtRecords.summary(record));
        }
        return domains;
    }

    @Override
    public Map<String, DomainUsage> usage() throws HypervisorException {
        Map<String, DomainUsage> usage = new HashMap<>();
        for (VirtExtras.Record record : bulk(VirtExtras.STATS_CPU_TOTAL | VirtExtras.STATS_BALLOON,
                VirtExtras.ONLY_ACTIVE)) {
            usage.put(record.uuid(), LibvirtRecords.usage(record));
        }
        return usage;
    }

    private List<VirtExtras.Record> bulk(int stats, int flags) throws HypervisorException {
        try {
            return guarded(c -> VirtExtras.allDomainStats(c.pointer(), stats, flags));
        } catch (VirtExtras.VirtExtrasException e) {
            throw new HypervisorException(isAlive() ? HypervisorException.Kind.OTHER
                    : HypervisorException.Kind.CONNECTION_LOST, blade + ": " + e.getMessage());
        }
    }

    @Override
    public Optional<DomainSummary> lookup(String uuid) throws HypervisorException {
        try {
            return Optional.of(withDomain(uuid, d -> new DomainSummary(uuid, d.getName(),
                    DomainState.of(d.getInfo().state.ordinal()), StopReason.UNKNOWN)));
        } catch (HypervisorException e) {
            if (e.isNotFound()) {
                return Optional.empty();
            }
            throw e;
        }
    }

    @Override
    public Optional<String> metadata(String uuid, String namespace, boolean live) throws HypervisorException {
        try {
            return Optional.of(withDomain(uuid,
                    d -> d.getMetadata(METADATA_ELEMENT, namespace, live ? AFFECT_LIVE : AFFECT_CONFIG)));
        } catch (HypervisorException e) {
            if (e.kind() == HypervisorException.Kind.NO_METADATA) {
                return Optional.empty();
            }
            if (!live && e.kind() == HypervisorException.Kind.INVALID_OPERATION) {
                return metadata(uuid, namespace, true);  // a transient domain has no persistent definition
            }
            throw e;
        }
    }

    @Override
    public String definitionXml(String uuid) throws HypervisorException {
        return withDomain(uuid, d -> d.getXMLDesc(XML_INACTIVE));
    }

    @Override
    public String define(String xml) throws HypervisorException {
        try {
            return guarded(c -> {
                Domain domain = c.domainDefineXML(xml);
                try {
                    return domain.getUUIDString();
                } finally {
                    domain.free();
                }
            });
        } catch (LibvirtException e) {
            throw translate(e, "define");
        }
    }

    @Override
    public String defineAndStart(String xml) throws HypervisorException {
        // One call on one lane: the domain's object belongs to the connection that defined it.
        return guarded(c -> {
            Domain domain;
            try {
                domain = c.domainDefineXML(xml);
            } catch (LibvirtException e) {
                throw translate(e, "define");
            }
            try {
                domain.create();
                return domain.getUUIDString();
            } catch (LibvirtException e) {
                throw translate(e, "start").afterDefine();
            } finally {
                try {
                    domain.free();
                } catch (LibvirtException ignored) {
                    // Freeing only drops our reference.
                }
            }
        });
    }

    @Override
    public void start(String uuid) throws HypervisorException {
        withDomain(uuid, Domain::create);
    }

    /**
     * The ACPI power button, never the guest agent: with an agent channel
     * libvirt's plain shutdown asks the agent first, and a guest can keep
     * that call waiting. Drivers without the flag (the test driver) get the
     * plain call.
     */
    @Override
    public void shutdown(String uuid) throws HypervisorException {
        try {
            guarded(c -> {
                VirtConsole.shutdownAcpi(c.pointer(), uuid);
                return null;
            });
        } catch (VirtConsole.Failure e) {
            if (e.code == VIR_ERR_NO_DOMAIN) {
                throw new HypervisorException(HypervisorException.Kind.NOT_FOUND, blade + ": " + e.getMessage());
            }
            if (e.code == VIR_ERR_OPERATION_INVALID) {
                throw new HypervisorException(HypervisorException.Kind.INVALID_OPERATION, blade + ": "
                        + e.getMessage());
            }
            if (!LibvirtErrors.unsupportedFlag(e.code)) {
                // Only a driver without the flag gets the plain call. Any other failure (a job libvirt could not
                // start, a blade in trouble) is reported: the plain call would ask the agent, and could hang there.
                throw new HypervisorException(isAlive() ? HypervisorException.Kind.OTHER
                        : HypervisorException.Kind.CONNECTION_LOST, blade + ": " + e.getMessage());
            }
            withDomain(uuid, d -> {
                d.shutdown();
                return null;
            });
        }
    }

    /** AGENT_TIMEOUT_SECONDS is how long a question to a guest agent may wait for the guest. */
    static final int AGENT_TIMEOUT_SECONDS = 5;

    @Override
    public List<GuestNic> interfaceAddresses(String uuid, AddressSource source) throws HypervisorException {
        int from = source == AddressSource.AGENT ? Domain.InterfaceAddressesSource.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT
                : Domain.InterfaceAddressesSource.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP;
        if (source == AddressSource.AGENT) {
            // Set before each question: it is the domain's, and a restarted domain has libvirt's default again.
            guarded(c -> VirtExtras.agentTimeout(c.pointer(), uuid, AGENT_TIMEOUT_SECONDS));
        }
        return withDomain(uuid, d -> LibvirtRecords.nics(d.interfaceAddresses(from, 0)));
    }

    @Override
    public void migrate(String uuid, Hypervisor destination, boolean live, MoveOptions options)
            throws HypervisorException {
        if (!(destination instanceof LibvirtHypervisor to)) {
            throw new HypervisorException(HypervisorException.Kind.OTHER, blade + ": cannot migrate to " + destination);
        }
        if (!live) {
            // A stopped domain: its definition goes there (same UUID), then leaves here.
            String xml = definitionXml(uuid);
            to.define(xml);
            undefine(uuid);
            return;
        }
        List<org.libvirt.TypedParameter> params = new ArrayList<>();
        options.migrateUri().ifPresent(u -> params.add(new org.libvirt.TypedStringParameter(
                Domain.DomainMigrateParameters.VIR_MIGRATE_PARAM_URI, u)));
        options.bandwidthMiBs().ifPresent(b -> params.add(new org.libvirt.TypedUlongParameter(
                Domain.DomainMigrateParameters.VIR_MIGRATE_PARAM_BANDWIDTH, b)));
        // libvirt moves no domain with snapshot records: it forgets them (the image keeps the snapshots, and a
        // revert of the moved VM goes through its image).
        for (String name : snapshotNames(uuid)) {
            snapshotForget(uuid, name);
        }
        int flags = Domain.MigrateFlags.LIVE | Domain.MigrateFlags.PERSIST_DEST | Domain.MigrateFlags.UNDEFINE_SOURCE
                | Domain.MigrateFlags.ABORT_ON_ERROR | (options.unsafe() ? Domain.MigrateFlags.UNSAFE : 0);
        // The source's call uses a lane of the destination, borrowed for it alone and given back by the call
        // itself once it returns (it may outlive its caller when a blade hangs); the caller waits for neither
        // blade's loss.
        Lanes theirs = to.calls.lanes();
        calls.lanes().call(c -> {
            Lanes.Lane there = theirs.borrow(MIGRATION_WAIT);
            try {
                return calls.onDomain(c, uuid, d -> {
                    Domain moved = d.migrate(there.connection, params.toArray(new org.libvirt.TypedParameter[0]),
                            flags);
                    if (moved != null) {
                        moved.free();
                    }
                    return null;
                });
            } finally {
                theirs.giveBack(there);
            }
        }, theirs);
    }

    @Override
    public void abortJob(String uuid) throws HypervisorException {
        withDomain(uuid, Domain::abortJob);
    }

    @Override
    public void destroy(String uuid) throws HypervisorException {
        withDomain(uuid, d -> {
            d.destroy();
            return null;
        });
    }

    @Override
    public void undefine(String uuid) throws HypervisorException {
        withDomain(uuid, d -> {
            try {
                d.undefine(UNDEFINE_NVRAM | UNDEFINE_SNAPSHOTS_METADATA);
            } catch (LibvirtException e) {
                // Drivers without NVRAM support (the test driver) refuse the flag.
                if (!unsupportedFlag(e)) {
                    throw e;
                }
                try {
                    d.undefine(UNDEFINE_SNAPSHOTS_METADATA);
                } catch (LibvirtException again) {
                    if (!unsupportedFlag(again)) {
                        throw again;
                    }
                    d.undefine();
                }
            }
            return null;
        });
    }

    private static boolean unsupportedFlag(LibvirtException e) {
        return e.getError() != null && LibvirtErrors.unsupportedFlag(e.getError().getCode());
    }

    @Override
    public void snapshotCreate(String uuid, String name) throws HypervisorException {
        withDomain(uuid, d -> {
            d.snapshotCreateXML("<domainsnapshot><name>" + name + "</name><description>ie-virsh</description>"
                    + "</domainsnapshot>").free();
            return null;
        });
    }

    @Override
    public void snapshotRevert(String uuid, String name) throws HypervisorException {
        withSnapshot(uuid, name, (d, snapshot) -> d.revertToSnapshot(snapshot));
    }

    @Override
    public void snapshotDelete(String uuid, String name) throws HypervisorException {
        withSnapshot(uuid, name, (d, snapshot) -> snapshot.delete(0));
    }

    @Override
    public void snapshotForget(String uuid, String name) throws HypervisorException {
        withSnapshot(uuid, name, (d, snapshot) -> snapshot.delete(SNAPSHOT_DELETE_METADATA_ONLY));
    }

    private interface SnapshotCall {
        void apply(Domain domain, org.libvirt.DomainSnapshot snapshot) throws LibvirtException;
    }

    /** Looks up snapshot {@code name} of domain {@code uuid}, calls {@code call} on it, and frees it. */
    private void withSnapshot(String uuid, String name, SnapshotCall call) throws HypervisorException {
        withDomain(uuid, d -> {
            org.libvirt.DomainSnapshot snapshot = d.snapshotLookupByName(name);
            try {
                call.apply(d, snapshot);
            } finally {
                snapshot.free();
            }
            return null;
        });
    }

    @Override
    public List<String> snapshotNames(String uuid) throws HypervisorException {
        return withDomain(uuid, d -> List.of(d.snapshotListNames()));
    }

    @Override
    public NodeResources nodeResources() throws HypervisorException {
        try {
            NodeInfo info = guarded(Connect::nodeInfo);
            return new NodeResources(info.cpus, info.memory * 1024);
        } catch (LibvirtException e) {
            throw translate(e, "node info");
        }
    }

    /** True while the watch connection and every lane work; false once it is closed. */
    boolean isAlive() {
        return calls.isAlive();
    }

    /**
     * Refuses new calls, releases the callers waiting, closes each lane once
     * its call returns, then runs {@code closer} on the watch connection.
     * (Consoles have connections of their own: {@link LibvirtBladeLink#openConsole}.)
     */
    void close(java.util.function.Consumer<Connect> closer) {
        calls.close(closer);
    }

    /** MIGRATION_WAIT is how long a live migration waits for an idle lane of its destination. */
    private static final java.time.Duration MIGRATION_WAIT = java.time.Duration.ofSeconds(30);

    private <T, E extends Exception> T guarded(Lanes.Call<T, E> call) throws E, HypervisorException {
        return calls.call(call);
    }

    private <T> T withDomain(String uuid, BladeCalls.DomainCall<T> call) throws HypervisorException {
        return calls.onDomain(uuid, call);
    }

    private HypervisorException translate(LibvirtException e, String what) {
        return calls.translate(e, what);
    }
}
