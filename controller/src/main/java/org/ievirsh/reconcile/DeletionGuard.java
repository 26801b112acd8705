package org.ievirsh.reconcile;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Logger;
import org.ievirsh.api.v1.ControllerConfig;

/**
 * DeletionGuard holds back mass removals (PRODUCT.md §6). Every VM whose
 * file is gone while its domain exists is a pending removal. A removal goes
 * ahead only when the first full pass since start is done, it has been
 * pending for {@link #SETTLE} (so that a mass deletion is seen whole before
 * any of it happens), and no more removals are pending than the guard
 * allows; otherwise none goes ahead, the log and a metric say so, and the
 * guard waits for an admin (restore the files, or raise {@code deletionGuard}
 * and restart the controller).
 */
public final class DeletionGuard {
    private static final Logger LOG = Logger.getLogger(DeletionGuard.class.getName());
    /** SETTLE is how long a removal waits so that it can be counted with others that come with it. */
    public static final Duration SETTLE = Duration.ofSeconds(2);

    private final ControllerConfig.DeletionGuard config;
    private final Map<String, Instant> pending = new HashMap<>();
    private boolean firstPassDone;
    private boolean tripped;
    private int managed;

    public DeletionGuard(ControllerConfig.DeletionGuard config) {
        this.config = config;
    }

    /** Decision for one removal: go ahead, or why not and when to ask again. */
    public record Decision(boolean allowed, Optional<String> heldBecause, Duration askAgainIn) {
    }

    /** Records how many VMs are managed now; the guard's limit is a share of it. */
    public synchronized void managedVms(int count) {
        managed = count;
    }

    /** Says the first full pass since start is over: removals may be weighed from now on. */
    public synchronized void firstPassDone() {
        firstPassDone = true;
    }

    /** Asks whether the removal {@code key} (user/vm) may happen at {@code now}; records it as pending. */
    public synchronized Decision ask(String key, Instant now) {
        Instant since = pending.computeIfAbsent(key, k -> now);
        int limit = config.threshold(managed);
        if (pending.size() > limit) {
            if (!tripped) {
                tripped = true;
                LOG.severe("deletion guard: " + pending.size() + " VMs would be removed, more than deletionGuard "
                        + config + " allows (" + limit + "); none is removed until an admin restores the files"
                        + " or raises deletionGuard");
            }
            return new Decision(false, Optional.of(pending.size() + " VMs would be removed at once, more than the"
                    + " deletion guard allows (" + limit + "); an admin has been alerted"), Duration.ofSeconds(30));
        }
        if (tripped) {
            tripped = false;
            LOG.warning("deletion guard: " + pending.size() + " pending removals are within the limit again");
        }
        if (!firstPassDone) {
            return new Decision(false, Optional.of("the controller is still looking at every directory"),
                    Duration.ofSeconds(1));
        }
        Duration waited = Duration.between(since, now);
        if (waited.compareTo(SETTLE) < 0) {
            return new Decision(false, Optional.of("removing in a moment"), SETTLE.minus(waited));
        }
        return new Decision(true, Optional.empty(), Duration.ZERO);
    }

    /** The removal {@code key} is no longer pending: done, or its file came back. */
    public synchronized void resolved(String key) {
        pending.remove(key);
    }

    public synchronized boolean isTripped() {
        return tripped;
    }

    public synchronized int pendingRemovals() {
        return pending.size();
    }
}
