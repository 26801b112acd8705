package org.ievirsh.reconcile;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Logger;
import org.ievirsh.api.v1.ControllerConfig;

/**
 * DeletionGuard holds back mass removals (the README's configuration: deletionGuard).
 * Every VM whose file is gone while its domain exists is a pending removal.
 * A removal goes ahead only when the first full pass since start is done, it
 * has been pending for {@link #SETTLE} (so that a mass deletion is seen whole
 * before any of it happens), and no hold applies:
 *
 * <ul>
 *   <li>per student: at least {@link ControllerConfig.DeletionGuard#FLOOR} of
 *       one student's VMs, and more than {@code deletionGuard} of them,
 *       pending at once hold that student's removals only;</li>
 *   <li>fleet-wide: removals of at least {@link #USERS} students adding up to
 *       more than {@code deletionGuard} of all managed VMs (at least
 *       {@link ControllerConfig.DeletionGuard#FLOOR}) hold them all.</li>
 * </ul>
 *
 * A hold is logged once when it starts and once when it ends, shows in a
 * metric, and waits for an admin (restore the files, or raise
 * {@code deletionGuard}). One student's removals never hold another's.
 */
public final class DeletionGuard {
    private static final Logger LOG = Logger.getLogger(DeletionGuard.class.getName());
    /** SETTLE is how long a removal waits so that it can be counted with others that come with it. */
    public static final Duration SETTLE = Duration.ofSeconds(2);
    /** USERS is how many students' removals together make a mass event. */
    public static final int USERS = 3;

    private volatile ControllerConfig.DeletionGuard config;
    /** Pending removals: by user, by VM, since when. */
    private final Map<String, Map<String, Instant>> pending = new HashMap<>();
    private final Set<String> heldUsers = new HashSet<>();
    private boolean firstPassDone;
    private boolean fleetHeld;
    private int managed;

    /** The admin's new deletionGuard (a live config) counts from the next pass. */
    public void reconfigure(ControllerConfig.DeletionGuard fresh) {
        this.config = fresh;
    }

    public DeletionGuard(ControllerConfig.DeletionGuard config) {
        this.config = config;
    }

    /** Decision for one removal: go ahead, or why not and when to ask again. */
    public record Decision(boolean allowed, Optional<String> heldBecause, Duration askAgainIn) {
    }

    /** Records how many VMs are managed now; the fleet-wide limit is a share of it. */
    public synchronized void managedVms(int count) {
        managed = count;
    }

    /** Says the first full pass since start is over: removals may be weighed from now on. */
    public synchronized void firstPassDone() {
        firstPassDone = true;
    }

    /** Asks about the removal {@code key} (user/vm) of a student whose count of VMs is not known. */
    public Decision ask(String key, Instant now) {
        return ask(key, Integer.MAX_VALUE, now);
    }

    /**
     * Asks whether the removal {@code key} (user/vm) may happen at
     * {@code now}; {@code userVms} is how many VMs (domains) that student
     * has. Records it as pending.
     */
    public synchronized Decision ask(String key, int userVms, Instant now) {
        String user = key.substring(0, key.indexOf('/'));
        Map<String, Instant> mine = pending.computeIfAbsent(user, u -> new HashMap<>());
        Instant since = mine.computeIfAbsent(key, k -> now);
        int total = pendingRemovals();
        int limit = config.threshold(managed);
        boolean fleet = pending.size() >= USERS && total > limit;
        if (fleet != fleetHeld) {
            fleetHeld = fleet;
            if (fleet) {
                LOG.severe("deletion guard: " + total + " VMs of " + pending.size() + " students would be removed,"
                        + " more than deletionGuard " + config + " allows (" + limit + "); none is removed until an"
                        + " admin restores the files or raises deletionGuard");
            } else {
                LOG.warning("deletion guard: " + total + " pending removals are within the limit again");
            }
        }
        if (fleet) {
            return new Decision(false, Optional.of(total + " VMs would be removed at once, more than the deletion"
                    + " guard allows (" + limit + "); an admin has been alerted"), Duration.ofSeconds(30));
        }
        boolean userHeld = mine.size() >= ControllerConfig.DeletionGuard.FLOOR && mine.size() > config.share(userVms);
        if (userHeld != heldUsers.contains(user)) {
            if (userHeld) {
                heldUsers.add(user);
                LOG.severe("deletion guard: " + mine.size() + " VMs of " + user + " would be removed at once, more"
                        + " than deletionGuard " + config + " of their VMs; none of theirs is removed until an admin"
                        + " restores the files or raises deletionGuard");
            } else {
                heldUsers.remove(user);
                LOG.warning("deletion guard: the removals of " + user + " are within the limit again");
            }
        }
        if (userHeld) {
            return new Decision(false, Optional.of(mine.size() + " of your VMs would be removed at once, more than"
                    + " the deletion guard allows; restore the files, or ask an admin"), Duration.ofSeconds(30));
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
        String user = key.substring(0, key.indexOf('/'));
        Map<String, Instant> mine = pending.get(user);
        if (mine == null || mine.remove(key) == null) {
            return;
        }
        if (mine.isEmpty()) {
            forgetUser(user);
        } else if (mine.size() < ControllerConfig.DeletionGuard.FLOOR) {
            heldUsers.remove(user);
        }
        released();
    }

    /** Forgets every pending removal of a student who is gone (their domains stay). */
    public synchronized void forgetUser(String user) {
        pending.remove(user);
        heldUsers.remove(user);
        released();
    }

    /** A fleet-wide hold ends as soon as fewer removals are pending than it needs. */
    private void released() {
        if (fleetHeld && !(pending.size() >= USERS && pendingRemovals() > config.threshold(managed))) {
            fleetHeld = false;
            LOG.warning("deletion guard: " + pendingRemovals() + " pending removals are within the limit again");
        }
    }

    /** True while a hold (of a student, or of the fleet) waits for an admin. */
    public synchronized boolean isTripped() {
        return fleetHeld || !heldUsers.isEmpty();
    }

    public synchronized int pendingRemovals() {
        int total = 0;
        for (Map<String, Instant> mine : pending.values()) {
            total += mine.size();
        }
        return total;
    }
}
