package org.ievirsh.console;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * CallerBounds counts what each caller holds of the console service: their
 * connections (sessions and requests on the way alike, bounded on the
 * kernel's word alone, before any lookup) and their opens, a token bucket of
 * {@code maxPerUser} opens at once, then one per {@code openEvery}.
 */
final class CallerBounds {
    private static final int MAX_BUCKETS = 10_000;
    private static final long FORGET_AFTER = Duration.ofMinutes(1).toNanos();

    private final int maxConnections;
    private final int maxOpens;
    /** Connections open now per caller name. */
    private final Map<String, Integer> connections = new HashMap<>();
    /** Per user, the opens they may make now without waiting, and when that was counted. */
    private final Map<String, Bucket> opens = new HashMap<>();
    private volatile Duration openEvery;

    private static final class Bucket {
        double left;
        long at;

        Bucket(double left, long at) {
            this.left = left;
            this.at = at;
        }
    }

    CallerBounds(int maxConnections, int maxOpens, Duration openEvery) {
        this.maxConnections = maxConnections;
        this.maxOpens = maxOpens;
        this.openEvery = openEvery;
    }

    /** Counts a connection of {@code name}; false (not counted) when they have as many as allowed. */
    synchronized boolean connected(String name) {
        int now = connections.getOrDefault(name, 0);
        if (now >= maxConnections) {
            return false;
        }
        connections.put(name, now + 1);
        return true;
    }

    synchronized void disconnected(String name) {
        connections.computeIfPresent(name, (u, n) -> n > 1 ? n - 1 : null);
    }

    /** Takes one open from {@code user}'s bucket; false when it is empty. */
    synchronized boolean mayOpen(String user) {
        long now = System.nanoTime();
        Bucket bucket = opens.computeIfAbsent(user, u -> new Bucket(maxOpens, now));
        Duration every = openEvery;
        bucket.left = every.isZero() ? maxOpens
                : Math.min(maxOpens, bucket.left + (double) (now - bucket.at) / every.toNanos());
        bucket.at = now;
        if (bucket.left < 1) {
            return false;
        }
        bucket.left -= 1;
        if (opens.size() > MAX_BUCKETS) {
            opens.values().removeIf(b -> now - b.at > FORGET_AFTER);  // full again by now: forgotten
        }
        return true;
    }

    /** Sets how long one more open takes to come back (tests that open many sessions one after the other). */
    void openEvery(Duration every) {
        openEvery = every;
    }
}
