package org.ievirsh.console;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * OpenSessions is the console sessions open now: one per VM, at most
 * {@code maxPerUser} per user, and a VM's session taken over ({@code FORCE})
 * at most once per {@code takeoverEvery}. Its decisions are made under its
 * own lock, which no libvirt call is ever made under.
 */
final class OpenSessions {
    private final int maxPerUser;
    private final Duration takeoverEvery;
    private final Map<String, ConsoleSession> byVm = new HashMap<>();
    private final Map<String, Integer> perUser = new HashMap<>();
    /** When each VM's console was last taken over (System.nanoTime). */
    private final Map<String, Long> takenOverAt = new HashMap<>();

    OpenSessions(int maxPerUser, Duration takeoverEvery) {
        this.maxPerUser = maxPerUser;
        this.takeoverEvery = takeoverEvery;
    }

    /** May {@code caller} open VM {@code key}'s console: the session it takes over, if any, or why not. */
    record Opening(ConsoleSession previous, String refusal) {
    }

    /**
     * Whether {@code caller} may open the console of {@code key} (VM {@code
     * vm}) now; a takeover allowed is counted at once. {@code bounds} is
     * asked last: a request refused for another reason costs no open.
     */
    synchronized Opening open(String key, String vm, String caller, boolean force, CallerBounds bounds) {
        ConsoleSession previous = byVm.get(key);
        int mine = perUser.getOrDefault(caller, 0) - (previous != null && previous.owner.equals(caller) ? 1 : 0);
        Long lastTakeover = takenOverAt.get(key);
        String refusal = null;
        if (previous != null && !force) {
            refusal = "the console of " + vm + " is already open; ie-virsh console " + vm + " --force takes it over";
        } else if (mine >= maxPerUser) {
            refusal = "you have " + mine + " console sessions open, the most allowed (console.maxSessionsPerUser);"
                    + " close one first";
        } else if (previous != null && lastTakeover != null
                && System.nanoTime() - lastTakeover < takeoverEvery.toNanos()) {
            refusal = "the console of " + vm + " was taken over less than " + takeoverEvery.toSeconds()
                    + " s ago; try again in a moment";
        } else if (!bounds.mayOpen(caller)) {
            refusal = "you opened " + maxPerUser + " consoles within seconds; one more a second at most: try again"
                    + " in a moment";
        } else if (previous != null) {
            takenOverAt.put(key, System.nanoTime());
        }
        return new Opening(previous, refusal);
    }

    /** Counts {@code session} as its VM's; the session it replaced (one opened meanwhile), if any. */
    synchronized ConsoleSession add(ConsoleSession session) {
        perUser.merge(session.owner, 1, Integer::sum);
        return byVm.put(session.key, session);
    }

    /** A session ended: it no longer counts (also one another replaced in {@link #add}: it counted till now). */
    synchronized void remove(ConsoleSession session) {
        byVm.remove(session.key, session);
        perUser.computeIfPresent(session.owner, (u, n) -> n > 1 ? n - 1 : null);
    }

    synchronized List<ConsoleSession> all() {
        return List.copyOf(byVm.values());
    }
}
