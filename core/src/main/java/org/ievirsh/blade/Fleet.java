package org.ievirsh.blade;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.ievirsh.placement.BladeRoom;
import org.ievirsh.placement.Placement;

/**
 * Fleet is every blade of the config, with what spans them: a user's domains
 * wherever they are, MAC addresses in use, and placement of new VMs with
 * reservations, so that two VMs placed at the same time do not both take
 * the last room of a blade.
 */
public final class Fleet {
    /** Replaced whole when a live config adds a blade: readers never see it half changed. */
    private volatile Map<String, Blade> blades = new LinkedHashMap<>();
    /** Changed only under the fleet's lock (placements are weighed whole); read without it by {@link #macInUse}. */
    private final Map<String, Reservation> reservations = new java.util.concurrent.ConcurrentHashMap<>();

    private record Reservation(String blade, int vcpus, long memoryBytes, List<String> macs) {
    }

    public Fleet(Collection<Blade> blades) {
        Map<String, Blade> all = new LinkedHashMap<>();
        blades.forEach(b -> all.put(b.name(), b));
        this.blades = java.util.Collections.unmodifiableMap(all);
    }

    /** Adds a blade (a live config named a new one). */
    public synchronized void add(Blade blade) {
        Map<String, Blade> all = new LinkedHashMap<>(blades);
        all.put(blade.name(), blade);
        blades = java.util.Collections.unmodifiableMap(all);
    }

    public Collection<Blade> blades() {
        return blades.values();
    }

    public Optional<Blade> blade(String name) {
        return Optional.ofNullable(blades.get(name));
    }

    /** The managed domains of {@code user} on every blade. */
    public List<ObservedDomain> domainsOf(String user) {
        List<ObservedDomain> found = new ArrayList<>();
        blades.values().forEach(b -> found.addAll(b.view().ofUser(user)));
        return found;
    }

    /** True when blade {@code name} is connected now. */
    public boolean bladeUp(String name) {
        Blade blade = blades.get(name);
        return blade != null && blade.view().isUp();
    }

    /** Blades not listed since the controller started: they may hold VMs we do not know of. */
    public List<String> unlisted() {
        return blades.values().stream().filter(b -> !b.view().isListed()).map(Blade::name).toList();
    }

    /** Blades that cannot be reached now (never listed, or not connected). */
    public List<String> unreachable() {
        return blades.values().stream().filter(b -> !b.view().isListed() || !b.view().isUp()).map(Blade::name)
                .toList();
    }

    /** When blade {@code name}, unreachable now, will have been so for {@code after}; empty while it is up. */
    public java.util.Optional<java.time.Instant> strandedAt(String name, java.time.Duration after) {
        Blade blade = blades.get(name);
        java.time.Instant since = blade == null ? null : blade.downSince();
        return since == null ? java.util.Optional.empty() : java.util.Optional.of(since.plus(after));
    }

    /**
     * How long blade {@code name} has been unreachable at {@code now}, once
     * that is at least {@code after}; empty while it is up or not down as long.
     */
    public java.util.Optional<java.time.Duration> downFor(String name, java.time.Instant now, java.time.Duration after) {
        Blade blade = blades.get(name);
        java.time.Instant since = blade == null ? null : blade.downSince();
        if (since == null) {
            return java.util.Optional.empty();
        }
        java.time.Duration down = java.time.Duration.between(since, now);
        return down.compareTo(after) >= 0 ? java.util.Optional.of(down) : java.util.Optional.empty();
    }

    /** True when {@code mac} is used by a domain other than {@code uuid}, or reserved for another VM. */
    public boolean macInUse(String mac, String uuid, String key) {
        for (Blade b : blades.values()) {
            if (b.view().macInUse(mac, uuid)) {
                return true;
            }
        }
        for (Map.Entry<String, Reservation> r : reservations.entrySet()) {
            if (!r.getKey().equals(key) && r.getValue().macs().contains(mac)) {
                return true;
            }
        }
        return false;
    }

    /** Who already has the domain name {@code name} (other than {@code uuid}), on any blade. */
    public Optional<String> nameTakenBy(String name, String uuid) {
        for (Blade b : blades.values()) {
            Optional<String> taken = b.view().nameTakenBy(name, uuid);
            if (taken.isPresent()) {
                return Optional.of(taken.get() + " on " + b.name());
            }
        }
        return Optional.empty();
    }

    /** True when another student's domain, on any blade, has the name {@code name}. */
    public boolean nameTakenByManaged(String name, String uuid) {
        for (Blade b : blades.values()) {
            if (b.view().nameTakenByManaged(name, uuid)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Places the new VM {@code key} (user/vm) and reserves its room until its
     * domain shows up or {@link #release} is called. A VM that holds a
     * reservation keeps its blade.
     */
    public synchronized Placement.Choice place(String key, int vcpus, long memoryBytes, List<String> macs) {
        Reservation held = reservations.get(key);
        if (held != null && held.vcpus() == vcpus && held.memoryBytes() == memoryBytes) {
            reservations.put(key, new Reservation(held.blade(), vcpus, memoryBytes, macs));
            return new Placement.Choice(Optional.of(held.blade()), "");
        }
        reservations.remove(key);
        Placement.Choice choice = Placement.choose(rooms(), vcpus, memoryBytes);
        choice.blade().ifPresent(b -> reservations.put(key, new Reservation(b, vcpus, memoryBytes, macs)));
        return choice;
    }

    /** Drops the reservation of {@code key}: its domain exists now, or it is no longer wanted. */
    public synchronized void release(String key) {
        reservations.remove(key);
    }

    /** What each blade can still take. */
    public synchronized List<BladeRoom> rooms() {
        List<BladeRoom> rooms = new ArrayList<>();
        for (Blade b : blades.values()) {
            long[] used = b.view().allocated();
            long vcpus = used[0];
            long memory = used[1];
            for (Reservation r : reservations.values()) {
                if (r.blade().equals(b.name())) {
                    vcpus += r.vcpus();
                    memory += r.memoryBytes();
                }
            }
            rooms.add(new BladeRoom(b.name(), b.config().schedulable() && !b.retired(),
                    b.view().isUp() && b.view().isListed(),
                    (int) (b.capacity().vcpus() - vcpus), b.capacity().memoryBytes() - memory, (int) used[2]));
        }
        return rooms;
    }

    /** vCPUs and memory placed on a blade (its domains plus reservations). */
    public synchronized long[] allocated(String blade) {
        Blade b = blades.get(blade);
        long[] used = b.view().allocated();
        for (Reservation r : reservations.values()) {
            if (r.blade().equals(blade)) {
                used[0] += r.vcpus();
                used[1] += r.memoryBytes();
            }
        }
        return used;
    }

    /** How many managed domains all blades hold. */
    public int managedCount() {
        int count = 0;
        for (Blade b : blades.values()) {
            count += (int) b.view().allocated()[2];
        }
        return count;
    }
}
