package org.ievirsh.reconcile;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.libvirt.StopReason;

/**
 * VmHistory is what the controller remembers of one VM between passes:
 * whether it asked the guest to stop, why it last stopped, and how often it
 * was restarted after stopping by itself. It lives in memory only; after a
 * restart of the controller, libvirt's stop reason stands in for it.
 *
 * <p>Immutable: every transition returns a new value.
 */
public record VmHistory(Instant stopRequestedAt, boolean wasActive, Instant activeSince, LastStop lastStop,
                        int restarts, Instant lastRestartAt, List<Instant> recentStarts) {

    /** STABLE is how long a VM must run before its crash-loop count is forgotten. */
    public static final Duration STABLE = Duration.ofMinutes(10);
    public static final VmHistory NEW = new VmHistory(null, false, null, null, 0, null, List.of());
    /** START_WINDOW is the window in which starts are counted. */
    public static final Duration START_WINDOW = Duration.ofMinutes(1);

    // Written out for the same reason as VmFacts.equals (a resync compares every VM's history).
    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        return o instanceof VmHistory h && wasActive == h.wasActive && restarts == h.restarts
                && Objects.equals(stopRequestedAt, h.stopRequestedAt) && Objects.equals(activeSince, h.activeSince)
                && Objects.equals(lastStop, h.lastStop) && Objects.equals(lastRestartAt, h.lastRestartAt)
                && recentStarts.equals(h.recentStarts);
    }

    @Override
    public int hashCode() {
        return Objects.hash(stopRequestedAt, wasActive, activeSince, lastStop, restarts, lastRestartAt, recentStarts);
    }

    /** LastStop is a stop that was seen happen: when, why, and whether we asked for it. */
    public record LastStop(Instant at, StopReason reason, boolean ours) {
    }

    /** The history after seeing {@code domain} (null when there is none) at {@code now}. */
    public VmHistory observe(ObservedDomain domain, Instant now) {
        if (domain == null) {
            return new VmHistory(null, false, null, null, restarts, lastRestartAt, recentStarts);
        }
        boolean active = domain.isActive();
        LastStop stop = lastStop;
        Instant requested = stopRequestedAt;
        Instant since = activeSince;
        int count = restarts;
        if (wasActive && !active) {
            stop = new LastStop(now, domain.stopReason(), stopRequestedAt != null);
            requested = null;
            since = null;
        } else if (!wasActive && active) {
            since = now;
        }
        if (active && since != null && Duration.between(since, now).compareTo(STABLE) >= 0) {
            count = 0;
        }
        return new VmHistory(requested, active, since, stop, count, lastRestartAt, recentStarts);
    }

    /** After we asked the guest to stop. */
    public VmHistory stopRequested(Instant now) {
        return new VmHistory(stopRequestedAt != null ? stopRequestedAt : now, wasActive, activeSince, lastStop,
                restarts, lastRestartAt, recentStarts);
    }

    /** After we started it; {@code afterFailure} counts towards the crash loop. */
    public VmHistory started(boolean afterFailure, Instant now) {
        List<Instant> starts = new ArrayList<>();
        for (Instant start : recentStarts) {
            if (start.plus(START_WINDOW).isAfter(now)) {
                starts.add(start);
            }
        }
        starts.add(now);
        return new VmHistory(null, wasActive, activeSince, null, afterFailure ? restarts + 1 : restarts,
                afterFailure ? now : lastRestartAt, List.copyOf(starts));
    }

    /**
     * When the VM may start again if it was started {@code limit} times in
     * the last {@link #START_WINDOW}; empty when it may start now.
     */
    public Optional<Instant> nextStartAllowed(Instant now, int limit) {
        List<Instant> inWindow = recentStarts.stream().filter(s -> s.plus(START_WINDOW).isAfter(now)).toList();
        if (inWindow.size() < limit) {
            return Optional.empty();
        }
        return Optional.of(inWindow.get(inWindow.size() - limit).plus(START_WINDOW));
    }

    /**
     * The stop that left {@code domain} off: the one seen happen, or else
     * libvirt's own reason (not ours, as far as we can tell).
     */
    public LastStop effectiveStop(ObservedDomain domain) {
        if (lastStop != null) {
            return lastStop;
        }
        return new LastStop(null, domain.stopReason(), false);
    }

    /**
     * How long to wait, after the last restart, before restarting a VM that
     * stopped by itself again: the first restart is at once, then 10s, 20s,
     * 40s, ... up to 5 minutes.
     */
    public static Duration restartDelay(int restarts) {
        if (restarts == 0) {
            return Duration.ZERO;
        }
        long seconds = 10L << Math.min(restarts - 1, 10);
        return Duration.ofSeconds(Math.min(seconds, 300));
    }
}
