package org.ievirsh.reconcile;

import java.time.Duration;
import java.util.Set;
import java.util.function.Consumer;
import org.ievirsh.blade.Blade;
import org.ievirsh.blade.BladeRefresher;
import org.ievirsh.blade.Fleet;
import org.ievirsh.engine.Result;
import org.ievirsh.libvirt.Hypervisor;
import org.ievirsh.libvirt.HypervisorException;
import org.ievirsh.users.UserIndex;

/**
 * BladeReconciler brings one blade's view up to date: a full listing when
 * one is due (after a reconnect, and every few minutes as a safety net
 * behind events), else only the domains that events named; then it asks for
 * the students whose domains changed to be reconciled. A blade that is not
 * connected has nothing to refresh: its link reconnects by itself.
 */
public final class BladeReconciler {
    private final Fleet fleet;
    private final DeletionGuard guard;
    private final UserIndex index;
    private final Consumer<String> userChanged;
    private final Runnable firstListing;

    /**
     * {@code userChanged} asks for a user's reconcile; {@code firstListing}
     * hears that a blade was listed for the first time since the start.
     */
    public BladeReconciler(Fleet fleet, DeletionGuard guard, UserIndex index, Consumer<String> userChanged,
                           Runnable firstListing) {
        this.fleet = fleet;
        this.guard = guard;
        this.index = index;
        this.userChanged = userChanged;
        this.firstListing = firstListing;
    }

    public Result reconcile(String name) {
        Blade blade = fleet.blade(name).orElse(null);
        Hypervisor hypervisor = blade == null ? null : blade.hypervisor().orElse(null);
        if (hypervisor == null) {
            return Result.done();
        }
        try {
            boolean full = blade.takeFullRefresh();
            if (full) {
                blade.node(hypervisor.nodeResources());
            }
            boolean first = full && !blade.view().isListed();
            Set<String> changed = full ? BladeRefresher.fullRefresh(blade.view(), hypervisor)
                    : BladeRefresher.applyEvents(blade.view(), hypervisor);
            if (full && blade.view().hasPendingEvents()) {
                changed.addAll(BladeRefresher.applyEvents(blade.view(), hypervisor));
            }
            guard.managedVms(fleet.managedCount());
            changed.forEach(userChanged);
            if (first) {
                // Until this blade was listed, new VMs waited: they may be placed now.
                index.users().forEach(userChanged);
                firstListing.run();
            }
            return blade.view().hasPendingEvents() ? Result.requeueAfter(Duration.ofMillis(1)) : Result.done();
        } catch (HypervisorException e) {
            blade.fullRefreshDue();
            if (e.isConnectionLost()) {
                blade.link().callFailed(e);
            }
            return Result.error(e.getMessage());
        }
    }
}
