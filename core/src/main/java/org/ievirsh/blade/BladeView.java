package org.ievirsh.blade;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.ievirsh.libvirt.LifecycleEvent;
import org.ievirsh.libvirt.StopReason;

/**
 * BladeView is what the controller knows of one blade's domains: the
 * managed ones (with our metadata), indexed by owner, and the names of the
 * others (so that a name clash is seen before libvirt refuses a define).
 *
 * <p>Thread-safe. Entries carry a write sequence: a listing that began before
 * a write does not undo it with older news.
 */
public final class BladeView {
    private static final AtomicLong SEQUENCE = new AtomicLong();

    private final String blade;
    private final Map<String, Entry> managed = new ConcurrentHashMap<>();
    private final Map<String, String> others = new ConcurrentHashMap<>();
    private final Map<String, Set<String>> byUser = new ConcurrentHashMap<>();
    private final Map<String, String> macs = new ConcurrentHashMap<>();
    private final Map<String, String> names = new ConcurrentHashMap<>();
    private final Map<String, PendingChange> pendingEvents = new ConcurrentHashMap<>();
    private final Map<String, Expectation> expected = new ConcurrentHashMap<>();
    /** When each domain was last forgotten: news gathered before that must not bring it back. */
    private final Map<String, Long> forgottenAt = new ConcurrentHashMap<>();
    private long vcpusPlaced;
    private long memoryPlaced;
    private volatile boolean up;
    private volatile boolean listed;

    private record Entry(ObservedDomain domain, long sequence) {
    }

    /**
     * PendingChange is what the events of one domain since the last refresh
     * say: its definition changed, it started, and the reason of its last stop.
     */
    record PendingChange(String uuid, boolean defined, boolean started, StopReason stopReason) {
        static PendingChange of(LifecycleEvent e) {
            return new PendingChange(e.uuid(), e.kind() == LifecycleEvent.Kind.DEFINED
                    || e.kind() == LifecycleEvent.Kind.UNDEFINED, e.kind() == LifecycleEvent.Kind.STARTED,
                    e.kind() == LifecycleEvent.Kind.STOPPED ? e.stopReason() : null);
        }

        PendingChange merge(PendingChange newer) {
            return new PendingChange(uuid, defined || newer.defined, started || newer.started,
                    newer.stopReason != null ? newer.stopReason : stopReason);
        }
    }

    public BladeView(String blade) {
        this.blade = blade;
    }

    public String blade() {
        return blade;
    }

    /** Connected now. */
    public boolean isUp() {
        return up;
    }

    /** Listed whole at least once since the controller started: until then, it may hold any VM. */
    public boolean isListed() {
        return listed;
    }

    void markUp(boolean isUp) {
        this.up = isUp;
        if (isUp) {
            // A new connection: whatever happened while we were away, every domain is read afresh.
            expected.clear();
        }
    }

    /**
     * A listing that began at {@code listedAt} is done: what was forgotten
     * before it began, it did not show, and no older news is still on its way
     * (a blade's refreshes run one at a time).
     */
    void markListed(long listedAt) {
        this.listed = true;
        forgottenAt.values().removeIf(at -> at < listedAt);
    }

    /** A sequence number to pass to {@link #putIfNewer}: writes after it win over what it carries. */
    public static long sequence() {
        return SEQUENCE.incrementAndGet();
    }

    /** Records a domain now (after our own call on it). */
    public void put(ObservedDomain domain) {
        store(domain, sequence());
    }

    /**
     * Records a domain seen by a listing that began at {@code listedAt},
     * unless a newer write exists or it was forgotten since (a move recorded
     * while the source's lookup was under way: the source's answer is older
     * news than the move).
     */
    boolean putIfNewer(ObservedDomain domain, long listedAt) {
        Entry old = managed.get(domain.uuid());
        Long forgotten = forgottenAt.get(domain.uuid());
        if (old != null && old.sequence() > listedAt || forgotten != null && forgotten > listedAt) {
            return false;
        }
        boolean changed = old == null || !old.domain().equals(domain);
        // The same news keeps the same object: a quiet student's check compares domains by identity first.
        store(changed ? domain : old.domain(), listedAt);
        return changed;
    }

    /** True when nothing was written to {@code uuid} after {@code sequence}. */
    boolean putIfNewerCheck(String uuid, long sequence) {
        Entry entry = managed.get(uuid);
        return entry == null || entry.sequence() <= sequence;
    }

    private synchronized void store(ObservedDomain domain, long sequence) {
        Entry old = managed.put(domain.uuid(), new Entry(domain, sequence));
        if (old != null && old.domain() == domain) {
            return;  // the same domain, newer news: its indexes stand
        }
        others.remove(domain.uuid());
        if (old != null) {
            unindex(old.domain());
        }
        domain.config().macs().forEach(mac -> macs.put(mac, domain.uuid()));
        names.put(domain.name(), domain.uuid());
        vcpusPlaced += domain.config().vcpus();
        memoryPlaced += domain.config().memoryBytes();
        byUser.computeIfAbsent(domain.config().user(), u -> ConcurrentHashMap.newKeySet()).add(domain.uuid());
    }

    /** Forgets a domain (undefined); returns it if it was managed. */
    public synchronized Optional<ObservedDomain> remove(String uuid) {
        forgottenAt.put(uuid, sequence());
        String other = others.remove(uuid);
        if (other != null) {
            names.remove(other, uuid);
        }
        Entry old = managed.remove(uuid);
        if (old == null) {
            return Optional.empty();
        }
        unindex(old.domain());
        return Optional.of(old.domain());
    }

    private void unindex(ObservedDomain domain) {
        domain.config().macs().forEach(mac -> macs.remove(mac, domain.uuid()));
        names.remove(domain.name(), domain.uuid());
        vcpusPlaced -= domain.config().vcpus();
        memoryPlaced -= domain.config().memoryBytes();
        Set<String> uuids = byUser.get(domain.config().user());
        if (uuids != null) {
            uuids.remove(domain.uuid());
            if (uuids.isEmpty()) {
                byUser.remove(domain.config().user());
            }
        }
    }

    synchronized void putOther(String uuid, String name) {
        if (!managed.containsKey(uuid)) {
            others.put(uuid, name);
            names.put(name, uuid);
        }
    }

    public Optional<ObservedDomain> get(String uuid) {
        Entry entry = managed.get(uuid);
        return entry == null ? Optional.empty() : Optional.of(entry.domain());
    }

    boolean knows(String uuid) {
        return managed.containsKey(uuid) || others.containsKey(uuid);
    }

    /** The managed domains of {@code user} here. */
    public List<ObservedDomain> ofUser(String user) {
        List<ObservedDomain> found = new ArrayList<>();
        for (String uuid : byUser.getOrDefault(user, Set.of())) {
            get(uuid).ifPresent(found::add);
        }
        return found;
    }

    /** Every managed domain here. */
    public List<ObservedDomain> all() {
        List<ObservedDomain> all = new ArrayList<>(managed.size());
        managed.values().forEach(e -> all.add(e.domain()));
        return all;
    }

    /** The names of the domains here that are not the controller's (no metadata of its own). */
    public List<String> othersNames() {
        return List.copyOf(others.values());
    }

    /** Users that have domains here. */
    public Set<String> users() {
        return new HashSet<>(byUser.keySet());
    }

    /** True when a domain that is not the managed {@code uuid} already has the name {@code name}. */
    public Optional<String> nameTakenBy(String name, String uuid) {
        String holder = names.get(name);
        if (holder == null || holder.equals(uuid)) {
            return Optional.empty();
        }
        return Optional.of(get(holder).map(d -> "VM " + d.config().vm() + " of " + d.config().user())
                .orElse("a domain that ie-virsh does not manage"));
    }

    /** True when a domain of ie-virsh's other than {@code uuid} has the name {@code name}. */
    public boolean nameTakenByManaged(String name, String uuid) {
        String holder = names.get(name);
        return holder != null && !holder.equals(uuid) && managed.containsKey(holder);
    }

    /** True when a managed domain other than {@code uuid} has the MAC address {@code mac}. */
    public boolean macInUse(String mac, String uuid) {
        String owner = macs.get(mac);
        return owner != null && !owner.equals(uuid);
    }

    /**
     * Expectation is the events our own calls on a domain will cause (a kind
     * once per call), until when we wait for them.
     */
    private record Expectation(List<LifecycleEvent.Kind> kinds, long until) {
    }

    /**
     * Says that our own call on {@code uuid} is about to cause events of
     * {@code kinds}: the executor has already recorded its result, so those
     * events, when they come, need no lookup.
     */
    public void expect(String uuid, Set<LifecycleEvent.Kind> kinds) {
        long until = System.nanoTime() + EXPECTATION_NANOS;
        // Events come later than calls return: a start's expectation must not replace the define's.
        expected.merge(uuid, new Expectation(List.copyOf(kinds), until), (old, added) -> {
            List<LifecycleEvent.Kind> all = new ArrayList<>(System.nanoTime() - old.until() > 0 ? List.of()
                    : old.kinds());
            all.addAll(added.kinds());
            return new Expectation(List.copyOf(all), until);
        });
    }

    private static final long EXPECTATION_NANOS = 30_000_000_000L;

    /**
     * Queues an event for the next refresh (the events of one domain add up);
     * returns false when it was only the echo of our own call.
     */
    public boolean queueEvent(LifecycleEvent event) {
        Expectation expectation = expected.get(event.uuid());
        if (expectation != null) {
            if (System.nanoTime() - expectation.until() > 0) {
                expected.remove(event.uuid(), expectation);
            } else if (expectation.kinds().contains(event.kind())) {
                // Each expected kind is one echo: the next event of that kind is someone else's doing.
                List<LifecycleEvent.Kind> left = new ArrayList<>(expectation.kinds());
                left.remove(event.kind());
                if (left.isEmpty()) {
                    expected.remove(event.uuid(), expectation);
                } else {
                    expected.replace(event.uuid(), expectation, new Expectation(List.copyOf(left),
                            expectation.until()));
                }
                return false;
            }
        }
        pendingEvents.merge(event.uuid(), PendingChange.of(event), PendingChange::merge);
        return true;
    }

    Collection<PendingChange> drainEvents() {
        List<PendingChange> drained = new ArrayList<>();
        for (String uuid : new ArrayList<>(pendingEvents.keySet())) {
            PendingChange event = pendingEvents.remove(uuid);
            if (event != null) {
                drained.add(event);
            }
        }
        return drained;
    }

    public boolean hasPendingEvents() {
        return !pendingEvents.isEmpty();
    }

    /** vCPUs, memory and count of the managed domains here, for placement. */
    public synchronized long[] allocated() {
        return new long[] {vcpusPlaced, memoryPlaced, managed.size()};
    }
}
