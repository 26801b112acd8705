package org.ievirsh.address;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.logging.Logger;
import java.util.regex.Pattern;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.libvirt.Hypervisor;
import org.ievirsh.libvirt.HypervisorException;

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
    /** At most this many addresses of one VM are kept from a guest's answer. */
    static final int MAX_PER_VM = 16;
    /** MUTE_AFTER: an agent question that failed after this long was a guest making us wait. */
    static final Duration MUTE_AFTER = Duration.ofSeconds(1);
    /** MUTE_BACKOFF_MAX caps the wait before a mute agent is asked again. */
    static final Duration MUTE_BACKOFF_MAX = Duration.ofHours(1);
    private static final Pattern MAC = Pattern.compile("(?:[0-9a-f]{2}:){5}[0-9a-f]{2}");
    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
            + "(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");

    private volatile ControllerConfig.Addresses config;
    private final Clock clock;
    private final Function<String, Optional<Hypervisor>> hypervisors;
    private final Consumer<String> wake;
    private volatile LeaseFiles leases;
    /** The failed reads counted by lease watchers that a config change replaced. */
    private final java.util.concurrent.atomic.AtomicLong pastLeaseErrors = new java.util.concurrent.atomic.AtomicLong();
    private volatile boolean started;
    private final Map<String, Vm> byKey = new ConcurrentHashMap<>();
    private final Map<String, String> keyByMac = new ConcurrentHashMap<>();
    private final Map<String, String> keyByUuid = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> generations = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer;
    private final ExecutorService askers;
    private final AtomicInteger inFlight = new AtomicInteger();
    /** Users with an agent question in flight: at most one each. */
    private final Set<String> askingAgentFor = ConcurrentHashMap.newKeySet();
    private final AtomicLong asked = new AtomicLong();
    /**
     * VMs to ask before the round, by key: those whose agent just connected
     * at the head (a guest that booted is worth asking at once, even behind
     * a whole class started together), those just started at the tail.
     */
    private final java.util.Deque<String> soon = new java.util.concurrent.ConcurrentLinkedDeque<>();
    /** Where the timer's round of the book stands (only the timer's thread uses it). */
    private java.util.Iterator<Vm> turns = java.util.Collections.emptyIterator();

    /** Vm is one running VM the book follows. */
    private static final class Vm {
        final String key;
        final String user;
        final String uuid;
        final String blade;
        final List<String> macs;
        final boolean agent;
        volatile Instant nextAsk;
        /**
         * True while the VM waits in {@code soon}, at the tail (started) or
         * the head (its agent connected): an agent that connects again and
         * again is queued once, not once per event.
         */
        volatile boolean queued;
        volatile boolean urgent;
        /** True once the agent or ARP was asked about it. */
        volatile boolean asked;
        /** True while a question about it is in flight: one at a time. */
        volatile boolean asking;
        /** How many times in a row its agent made us wait without an answer, and when to ask it again. */
        volatile int muted;
        volatile Instant agentNext = Instant.EPOCH;
        volatile List<VmStatus.Address> fromAgent = List.of();
        volatile List<VmStatus.Address> fromArp = List.of();

        Vm(String key, String user, String uuid, String blade, List<String> macs, boolean agent, Instant nextAsk) {
            this.key = key;
            this.user = user;
            this.uuid = uuid;
            this.blade = blade;
            this.macs = macs;
            this.agent = agent;
            this.nextAsk = nextAsk;
        }

        boolean same(String uuidNow, String bladeNow, List<String> macsNow, boolean agentNow) {
            return uuid.equals(uuidNow) && blade.equals(bladeNow) && macs.equals(macsNow) && agent == agentNow;
        }
    }

    public AddressBook(ControllerConfig.Addresses config, Clock clock,
                       Function<String, Optional<Hypervisor>> hypervisors, Consumer<String> wake) {
        this.config = config;
        this.clock = clock;
        this.hypervisors = hypervisors;
        this.wake = wake;
        this.leases = new LeaseFiles(config.uses("leases") ? config.leases() : List.of(), clock, this::leasesChanged);
        this.timer = Executors.newSingleThreadScheduledExecutor(daemon("addresses-timer"));
        this.askers = Executors.newFixedThreadPool(4, daemon("addresses-ask"));
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Reads the lease files and starts asking agents and ARP tables. */
    public synchronized void start() {
        started = true;
        leases.start();
        timer.scheduleWithFixedDelay(this::askDue, 250, 250, TimeUnit.MILLISECONDS);
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
        for (Vm vm : byKey.values()) {
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
        Vm vm = byKey.get(key);
        if (vm == null || !vm.same(uuid, blade, macs, agent)) {
            if (vm != null) {
                forgetIndexes(vm);
            }
            vm = new Vm(key, user, uuid, blade, List.copyOf(macs), agent, clock.instant());
            byKey.put(key, vm);
            askSoon(vm, false);
            for (String mac : macs) {
                keyByMac.put(mac, key);
            }
            keyByUuid.put(uuid, key);
        }
        return addresses(vm);
    }

    /** The VM {@code key} does not run (stopped, gone, elsewhere): what was learnt of it is dropped. */
    public void notRunning(String key) {
        Vm vm = byKey.remove(key);
        if (vm != null) {
            forgetIndexes(vm);
        }
    }

    /** Forgets every VM of {@code user} (they have no directory any more). */
    public void forgetUser(String user) {
        for (Vm vm : List.copyOf(byKey.values())) {
            if (vm.user.equals(user)) {
                notRunning(vm.key);
            }
        }
        generations.remove(user);
    }

    private void forgetIndexes(Vm vm) {
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
        Vm vm = key == null ? null : byKey.get(key);
        if (vm != null && vm.agent && config.uses("agent") && vm.muted == 0) {
            vm.nextAsk = clock.instant();
            askSoon(vm, true);
        }
    }

    /**
     * Running VMs not asked yet since they started (a benchmark's figure: at
     * 20 a second, the first answers of a fleet started together take a
     * while, and each one that tells something wakes its student).
     */
    public int notAskedYet() {
        int count = 0;
        for (Vm vm : byKey.values()) {
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
        return asked.get();
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
    private List<VmStatus.Address> addresses(Vm vm) {
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
            Vm vm = key == null ? null : byKey.get(key);
            if (vm != null) {
                changed(vm);
            }
        }
    }

    private void changed(Vm vm) {
        generations.computeIfAbsent(vm.user, u -> new AtomicLong()).incrementAndGet();
        wake.accept(vm.user);
    }

    /**
     * Runs every 250 ms: hands the VMs due to the askers, within the
     * fleet-wide rate. The VMs whose agent just connected come first, then
     * those just started (see {@link #soon}); then the book is gone round from
     * where the last tick stopped, each VM looked at once a tick at most (from
     * the start every time, the first few hundred VMs would take every turn
     * and the rest would never be asked again).
     */
    void askDue() {
        if (!config.uses("agent") && !config.uses("arp")) {
            return;
        }
        try {
            Instant now = clock.instant();
            int budget = ASKS_PER_SECOND / 4;
            List<Vm> later = new ArrayList<>();
            for (String key; budget > 0 && roomInFlight() && (key = soon.poll()) != null; ) {
                Vm vm = byKey.get(key);
                if (vm != null) {
                    // Both ends at once: a second entry of it may stay behind, and finds it asked already.
                    vm.queued = false;
                    vm.urgent = false;
                }
                if (vm != null && !vm.nextAsk.isAfter(now)) {
                    if (hand(vm, now)) {
                        budget--;
                    } else {
                        later.add(vm);  // its user's question is still in flight: at a later tick
                    }
                }
            }
            later.forEach(vm -> askSoon(vm, false));
            for (int looked = 0, all = byKey.size(); looked < all && budget > 0 && roomInFlight(); looked++) {
                if (!turns.hasNext()) {
                    turns = byKey.values().iterator();
                    if (!turns.hasNext()) {
                        return;
                    }
                }
                Vm vm = turns.next();
                if (!vm.nextAsk.isAfter(now) && hand(vm, now)) {
                    budget--;
                }
            }
        } catch (RuntimeException e) {
            LOG.warning("addresses: " + e);
        }
    }

    /** Queues {@code vm} at the head ({@code first}) or the tail of {@link #soon}, once at each at most. */
    private void askSoon(Vm vm, boolean first) {
        if (first && !vm.urgent) {
            vm.urgent = true;
            soon.addFirst(vm.key);
        } else if (!first && !vm.queued) {
            vm.queued = true;
            soon.addLast(vm.key);
        }
    }

    private boolean roomInFlight() {
        return inFlight.get() < 2 * ASKS_PER_SECOND;
    }

    /**
     * Hands {@code vm} to an asker; false, and nothing done, while a question
     * about it, or an agent question of its user, is in flight.
     */
    private boolean hand(Vm vm, Instant now) {
        if (vm.asking) {
            return false;
        }
        boolean agent = vm.agent && config.uses("agent") && !vm.agentNext.isAfter(now);
        if (agent && !askingAgentFor.add(vm.user)) {
            return false;
        }
        vm.asking = true;
        vm.nextAsk = now.plus(ASK_EVERY);
        inFlight.incrementAndGet();
        try {
            askers.execute(() -> {
                try {
                    ask(vm, agent);
                } finally {
                    done(vm, agent);
                }
            });
        } catch (RuntimeException e) {
            done(vm, agent);  // shut down
        }
        return true;
    }

    private void done(Vm vm, boolean agent) {
        if (agent) {
            askingAgentFor.remove(vm.user);
        }
        vm.asking = false;
        inFlight.decrementAndGet();
    }

    private void ask(Vm vm, boolean agent) {
        Optional<Hypervisor> hypervisor = hypervisors.apply(vm.blade);
        if (hypervisor.isEmpty() || byKey.get(vm.key) != vm) {
            return;
        }
        vm.asked = true;
        boolean changed = false;
        if (agent) {
            long started = System.nanoTime();
            List<VmStatus.Address> answer = askOne(hypervisor.get(), vm, Hypervisor.AddressSource.AGENT, "agent");
            if (answer != null) {
                vm.muted = 0;
                if (!answer.equals(vm.fromAgent)) {
                    vm.fromAgent = answer;
                    changed = true;
                }
            } else if (System.nanoTime() - started >= MUTE_AFTER.toNanos()) {
                vm.muted = Math.min(vm.muted + 1, 16);
                Duration wait = ASK_EVERY.multipliedBy(1L << Math.min(vm.muted, 6));
                vm.agentNext = clock.instant().plus(wait.compareTo(MUTE_BACKOFF_MAX) > 0 ? MUTE_BACKOFF_MAX : wait);
                LOG.fine(() -> vm.key + ": its agent made us wait without an answer; asked again after "
                        + vm.agentNext);
            }
        }
        if (config.uses("arp")) {
            List<VmStatus.Address> answer = askOne(hypervisor.get(), vm, Hypervisor.AddressSource.ARP, "arp");
            if (answer != null && !answer.equals(vm.fromArp)) {
                vm.fromArp = answer;
                changed = true;
            }
        }
        if (changed && byKey.get(vm.key) == vm) {
            changed(vm);
        }
    }

    /**
     * One call; the answer kept only for the VM's own MACs, as valid IPv4
     * text, at most {@link #MAX_PER_VM}; null when the source did not answer
     * (an agent not connected yet keeps what it said before).
     */
    private List<VmStatus.Address> askOne(Hypervisor hypervisor, Vm vm, Hypervisor.AddressSource source,
                                          String name) {
        asked.incrementAndGet();
        List<Hypervisor.GuestNic> nics;
        try {
            nics = hypervisor.interfaceAddresses(vm.uuid, source);
        } catch (HypervisorException | RuntimeException e) {
            LOG.fine(() -> vm.key + ": no addresses from the " + name + ": " + e.getMessage());
            return source == Hypervisor.AddressSource.ARP ? List.of() : null;
        }
        Map<String, VmStatus.Address> kept = new HashMap<>();
        List<VmStatus.Address> ordered = new ArrayList<>();
        for (Hypervisor.GuestNic nic : nics) {
            String named = nic.mac() == null ? "" : nic.mac().toLowerCase(java.util.Locale.ROOT);
            int ours = MAC.matcher(named).matches() ? vm.macs.indexOf(named) : -1;
            if (ours < 0) {
                continue;  // the guest may name NICs of its own (a bridge, a container's): only ours count
            }
            String mac = vm.macs.get(ours);  // kept: our own copy, not one more string per VM from the guest
            for (String ip : nic.ipv4()) {
                if (ip != null && ip.length() <= 15 && IPV4.matcher(ip).matches() && !ip.startsWith("127.")
                        && ordered.size() < MAX_PER_VM && kept.putIfAbsent(ip + " " + mac,
                        new VmStatus.Address(ip, mac, name)) == null) {
                    ordered.add(kept.get(ip + " " + mac));
                }
            }
        }
        ordered.sort(java.util.Comparator.comparingInt(a -> vm.macs.indexOf(a.mac())));
        return List.copyOf(ordered);
    }

    @Override
    public void close() {
        timer.shutdownNow();
        askers.shutdownNow();
        leases.close();
    }
}
