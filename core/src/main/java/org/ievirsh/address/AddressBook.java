package org.ievirsh.address;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.logging.Logger;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.libvirt.Hypervisor;

/**
 * AddressBook knows the IPv4 addresses of the running VMs, by the MACs the
 * controller gave their NICs, from the sources the admin chose (the README:
 * "Reaching your VM"): the DHCP server's lease files ({@link LeaseFiles}), the guest agent
 * and the blade's ARP table. The reconcilers tell it which VMs run where
 * ({@link #running}) and read their addresses back ({@link #of}); it asks
 * the agents and the ARP tables on threads of its own, never on a worker's or
 * on libvirt's event thread: when the agent connects, then at most once a
 * minute per VM, and at most {@link #ASKS_PER_SECOND} calls a second in all
 * (ten thousand students' VMs are asked in turn, for a bounded idle cost).
 * A student whose addresses changed is woken; the per-user generation lets a
 * quiet student's pass see it.
 *
 * <p>A guest decides how its agent answers, so no guest may hold the askers
 * up for the others: a question waits for the guest at most a few seconds
 * (libvirt's agent timeout, set by the hypervisor), one VM is asked one
 * question at a time, one user has at most one agent question in flight,
 * and an agent that made us wait without an answer ({@link #MUTE_AFTER}) is
 * asked again only after a back-off that doubles up to
 * {@link #MUTE_BACKOFF_MAX}: its reconnections do not bring that forward;
 * only an answer at its next turn does.
 */
public final class AddressBook implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(AddressBook.class.getName());
    /** How often a running VM is asked again, at most. */
    public static final Duration ASK_EVERY = Duration.ofMinutes(1);
    /** ASKS_PER_SECOND bounds the agent and ARP calls of the whole fleet. */
    public static final int ASKS_PER_SECOND = 20;
    /** MUTE_AFTER: an agent question that failed after this long was a guest making us wait. */
    static final Duration MUTE_AFTER = Duration.ofSeconds(1);
    /** MUTE_BACKOFF_MAX caps the wait before a mute agent is asked again. */
    static final Duration MUTE_BACKOFF_MAX = Duration.ofHours(1);

    private volatile ControllerConfig.Addresses config;
    private final Clock clock;
    private final Function<String, Optional<Hypervisor>> hypervisors;
    private final Consumer<String> wake;
    private volatile LeaseFiles leases;
    /** The failed reads counted by lease watchers that a config change replaced. */
    private final java.util.concurrent.atomic.AtomicLong pastLeaseErrors = new java.util.concurrent.atomic.AtomicLong();
    private volatile boolean started;
    private final Map<String, FollowedVm> byKey = new ConcurrentHashMap<>();
    private final Map<String, String> keyByMac = new ConcurrentHashMap<>();
    private final Map<String, String> keyByUuid = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> generations = new ConcurrentHashMap<>();
    private final AddressAskers askers;

    public AddressBook(ControllerConfig.Addresses config, Clock clock,
                       Function<String, Optional<Hypervisor>> hypervisors, Consumer<String> wake) {
        this.config = config;
        this.clock = clock;
        this.hypervisors = hypervisors;
        this.wake = wake;
        this.leases = new LeaseFiles(config.uses("leases") ? config.leases() : List.of(), clock, this::leasesChanged);
        this.askers = new AddressAskers(byKey, () -> this.config, hypervisors, clock, this::changed);
    }

    /** Reads the lease files and starts asking agents and ARP tables. */
    public synchronized void start() {
        started = true;
        leases.start();
        askers.start();
    }

    /** The admin's new addresses settings (a live config): sources at once, lease files read afresh. */
    public synchronized void reconfigure(ControllerConfig.Addresses fresh) {
        ControllerConfig.Addresses old = config;
        config = fresh;
        List<java.nio.file.Path> files = fresh.uses("leases") ? fresh.leases() : List.of();
        List<java.nio.file.Path> before = old.uses("leases") ? old.leases() : List.of();
        if (!files.equals(before)) {
            LeaseFiles previous = leases;
            pastLeaseErrors.addAndGet(previous.errors());
            leases = new LeaseFiles(files, clock, this::leasesChanged);
            if (started) {
                leases.start();
            }
            previous.close();
        }
        for (FollowedVm vm : byKey.values()) {
            vm.nextAsk = clock.instant();
            changed(vm);
        }
    }

    /**
     * The VM {@code key} of {@code user} runs as domain {@code uuid} on
     * {@code blade} with NICs {@code macs}; {@code agent}: its definition has
     * the guest agent's channel. Returns its addresses as known now.
     */
    public List<VmStatus.Address> running(String key, String user, String uuid, String blade, List<String> macs,
                                          boolean agent) {
        FollowedVm vm = byKey.get(key);
        if (vm == null || !vm.same(uuid, blade, macs, agent)) {
            if (vm != null) {
                forgetIndexes(vm);
            }
            vm = new FollowedVm(key, user, uuid, blade, List.copyOf(macs), agent, clock.instant());
            byKey.put(key, vm);
            askers.askSoon(vm, false);
            for (String mac : macs) {
                keyByMac.put(mac, key);
            }
            keyByUuid.put(uuid, key);
        }
        return addresses(vm);
    }

    /** The VM {@code key} does not run (stopped, gone, elsewhere): what was learnt of it is dropped. */
    public void notRunning(String key) {
        FollowedVm vm = byKey.remove(key);
        if (vm != null) {
            forgetIndexes(vm);
        }
    }

    /** Forgets every VM of {@code user} (they have no directory any more). */
    public void forgetUser(String user) {
        for (FollowedVm vm : List.copyOf(byKey.values())) {
            if (vm.user.equals(user)) {
                notRunning(vm.key);
            }
        }
        generations.remove(user);
    }

    private void forgetIndexes(FollowedVm vm) {
        for (String mac : vm.macs) {
            keyByMac.remove(mac, vm.key);
        }
        keyByUuid.remove(vm.uuid, vm.key);
    }

    /** A count that moves whenever {@code user}'s addresses change (a quiet student's pass compares it). */
    public long generation(String user) {
        AtomicLong g = generations.get(user);
        return g == null ? 0 : g.get();
    }

    /** The guest agent of domain {@code uuid} connected: ask it soon. */
    public void agentConnected(String uuid) {
        String key = keyByUuid.get(uuid);
        FollowedVm vm = key == null ? null : byKey.get(key);
        if (vm != null && vm.agent && config.uses("agent") && vm.muted == 0) {
            vm.nextAsk = clock.instant();
            askers.askSoon(vm, true);
        }
    }

    /**
     * Running VMs not asked yet since they started (a benchmark's figure: at
     * 20 a second, the first answers of a fleet started together take a
     * while, and each one that tells something wakes its student).
     */
    public int notAskedYet() {
        int count = 0;
        for (FollowedVm vm : byKey.values()) {
            if (!vm.asked) {
                count++;
            }
        }
        return count;
    }

    /** How many running VMs the book follows. */
    public int followed() {
        return byKey.size();
    }

    /** Agent and ARP calls made so far (a benchmark's figure). */
    public long asked() {
        return askers.asked();
    }

    /** MACs whose leases are contested now (two addresses at once; none believed). */
    public int leaseConflicts() {
        return leases.contested();
    }

    /** Failed reads of the lease files so far. */
    public long leaseFileErrors() {
        return pastLeaseErrors.get() + leases.errors();
    }

    /** Every address of {@code vm}: by the admin's order of sources, each (ip, mac) once, its most trusted source. */
    private List<VmStatus.Address> addresses(FollowedVm vm) {
        Instant now = clock.instant();
        Map<String, VmStatus.Address> found = new LinkedHashMap<>();
        for (String source : config.sources()) {
            switch (source) {
                case "leases":
                    for (String mac : vm.macs) {
                        Lease lease = leases.lease(mac);
                        if (lease != null && lease.activeAt(now)) {
                            found.putIfAbsent(lease.ip() + " " + mac, new VmStatus.Address(lease.ip(), mac, "lease"));
                        }
                    }
                    break;
                case "agent":
                    vm.fromAgent.forEach(a -> found.putIfAbsent(a.ip() + " " + a.mac(), a));
                    break;
                default:
                    vm.fromArp.forEach(a -> found.putIfAbsent(a.ip() + " " + a.mac(), a));
                    break;
            }
        }
        return List.copyOf(found.values());
    }

    private void leasesChanged(Set<String> macs) {
        for (String mac : macs) {
            String key = keyByMac.get(mac);
            FollowedVm vm = key == null ? null : byKey.get(key);
            if (vm != null) {
                changed(vm);
            }
        }
    }

    private void changed(FollowedVm vm) {
        generations.computeIfAbsent(vm.user, u -> new AtomicLong()).incrementAndGet();
        wake.accept(vm.user);
    }

    /** Runs the askers' tick now (tests drive it by hand). */
    void askDue() {
        askers.askDue();
    }

    @Override
    public void close() {
        askers.close();
        leases.close();
    }
}
