package org.ievirsh.address;

import static org.ievirsh.address.AddressBook.ASKS_PER_SECOND;
import static org.ievirsh.address.AddressBook.ASK_EVERY;
import static org.ievirsh.address.AddressBook.MUTE_AFTER;
import static org.ievirsh.address.AddressBook.MUTE_BACKOFF_MAX;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.logging.Logger;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.libvirt.Hypervisor;
import org.ievirsh.libvirt.HypervisorException;

/**
 * AddressAskers ask the guest agents and the blades' ARP tables about the
 * VMs the address book follows, on threads of their own, within the bounds
 * {@link AddressBook} promises: the fleet-wide rate, one question per VM and
 * one agent question per user at a time, a mute agent's back-off. What a
 * guest says is kept as {@link GuestAnswers} allows; a change is told back.
 */
final class AddressAskers implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(AddressBook.class.getName());

    private final Map<String, FollowedVm> byKey;
    private final Supplier<ControllerConfig.Addresses> config;
    private final Function<String, Optional<Hypervisor>> hypervisors;
    private final Clock clock;
    private final Consumer<FollowedVm> changed;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(daemon("addresses-timer"));
    private final ExecutorService askers = Executors.newFixedThreadPool(4, daemon("addresses-ask"));
    private final AtomicInteger inFlight = new AtomicInteger();
    /** Users with an agent question in flight: at most one each. */
    private final Set<String> askingAgentFor = ConcurrentHashMap.newKeySet();
    private final AtomicLong asked = new AtomicLong();
    /**
     * VMs to ask before the round, by key: those whose agent just connected
     * at the head (a guest that booted is worth asking at once, even behind
     * a whole class started together), those just started at the tail.
     */
    private final Deque<String> soon = new ConcurrentLinkedDeque<>();
    /** Where the timer's round of the book stands (only the timer's thread uses it). */
    private Iterator<FollowedVm> turns = Collections.emptyIterator();

    /** {@code byKey}: the book's VMs (shared: the askers read it); {@code changed}: told when an answer changed. */
    AddressAskers(Map<String, FollowedVm> byKey, Supplier<ControllerConfig.Addresses> config,
                  Function<String, Optional<Hypervisor>> hypervisors, Clock clock, Consumer<FollowedVm> changed) {
        this.byKey = byKey;
        this.config = config;
        this.hypervisors = hypervisors;
        this.clock = clock;
        this.changed = changed;
    }

    private static ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    void start() {
        timer.scheduleWithFixedDelay(this::askDue, 250, 250, TimeUnit.MILLISECONDS);
    }

    /** Agent and ARP calls made so far (a benchmark's figure). */
    long asked() {
        return asked.get();
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
        if (!config.get().uses("agent") && !config.get().uses("arp")) {
            return;
        }
        try {
            Instant now = clock.instant();
            int budget = ASKS_PER_SECOND / 4;
            List<FollowedVm> later = new ArrayList<>();
            for (String key; budget > 0 && roomInFlight() && (key = soon.poll()) != null; ) {
                FollowedVm vm = byKey.get(key);
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
                FollowedVm vm = turns.next();
                if (!vm.nextAsk.isAfter(now) && hand(vm, now)) {
                    budget--;
                }
            }
        } catch (RuntimeException e) {
            LOG.warning("addresses: " + e);
        }
    }

    /** Queues {@code vm} at the head ({@code first}) or the tail of {@link #soon}, once at each at most. */
    void askSoon(FollowedVm vm, boolean first) {
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
    private boolean hand(FollowedVm vm, Instant now) {
        if (vm.asking) {
            return false;
        }
        boolean agent = vm.agent && config.get().uses("agent") && !vm.agentNext.isAfter(now);
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

    private void done(FollowedVm vm, boolean agent) {
        if (agent) {
            askingAgentFor.remove(vm.user);
        }
        vm.asking = false;
        inFlight.decrementAndGet();
    }

    private void ask(FollowedVm vm, boolean agent) {
        Optional<Hypervisor> hypervisor = hypervisors.apply(vm.blade);
        if (hypervisor.isEmpty() || byKey.get(vm.key) != vm) {
            return;
        }
        vm.asked = true;
        boolean learnt = false;
        if (agent) {
            long started = System.nanoTime();
            List<VmStatus.Address> answer = askOne(hypervisor.get(), vm, Hypervisor.AddressSource.AGENT, "agent");
            if (answer != null) {
                vm.muted = 0;
                if (!answer.equals(vm.fromAgent)) {
                    vm.fromAgent = answer;
                    learnt = true;
                }
            } else if (System.nanoTime() - started >= MUTE_AFTER.toNanos()) {
                vm.muted = Math.min(vm.muted + 1, 16);
                Duration wait = ASK_EVERY.multipliedBy(1L << Math.min(vm.muted, 6));
                vm.agentNext = clock.instant().plus(wait.compareTo(MUTE_BACKOFF_MAX) > 0 ? MUTE_BACKOFF_MAX : wait);
                LOG.fine(() -> vm.key + ": its agent made us wait without an answer; asked again after "
                        + vm.agentNext);
            }
        }
        if (config.get().uses("arp")) {
            List<VmStatus.Address> answer = askOne(hypervisor.get(), vm, Hypervisor.AddressSource.ARP, "arp");
            if (answer != null && !answer.equals(vm.fromArp)) {
                vm.fromArp = answer;
                learnt = true;
            }
        }
        if (learnt && byKey.get(vm.key) == vm) {
            changed.accept(vm);
        }
    }

    /**
     * One call; what of the answer may be believed ({@link GuestAnswers});
     * null when the source did not answer (an agent not connected yet keeps
     * what it said before).
     */
    private List<VmStatus.Address> askOne(Hypervisor hypervisor, FollowedVm vm, Hypervisor.AddressSource source,
                                          String name) {
        asked.incrementAndGet();
        List<Hypervisor.GuestNic> nics;
        try {
            nics = hypervisor.interfaceAddresses(vm.uuid, source);
        } catch (HypervisorException | RuntimeException e) {
            LOG.fine(() -> vm.key + ": no addresses from the " + name + ": " + e.getMessage());
            return source == Hypervisor.AddressSource.ARP ? List.of() : null;
        }
        return GuestAnswers.keep(nics, vm.macs, name);
    }

    @Override
    public void close() {
        timer.shutdownNow();
        askers.shutdownNow();
    }
}
