package org.ievirsh.reconcile;

import static org.ievirsh.reconcile.StatusBuilder.cond;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.ievirsh.api.v1.Condition;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.Reasons;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.blade.ObservedDomain;

/**
 * MovePlanner plans a VM's way off a draining blade (the README's "The blades as one pool"): a
 * move under way is shown as {@code Migrating} and nothing else is done to
 * the VM (both blades may show its domain meanwhile); a steady VM (running,
 * or stopped, with nothing else to do) with room elsewhere moves; one that
 * cannot move yet stays, says why, and is looked at again. Pure.
 */
final class MovePlanner {
    /** How soon a VM that cannot move yet is looked at again. */
    static final Duration RETRY = Duration.ofSeconds(30);

    private MovePlanner() {
    }

    /** The plan of a VM whose move is under way; empty when none is. */
    static Optional<VmPlan> underWay(VmFacts f) {
        if (f.target().move().under().isEmpty()) {
            return Optional.empty();
        }
        ObservedDomain from = f.domain().orElse(null);
        String message = "moving from " + (from != null ? from.blade() : "its blade") + " to " + f.target().move().under().get();
        return Optional.of(StatusBuilder.status(f, Phase.Migrating, message, from,
                cond(Condition.READY, from != null && from.isActive(), Reasons.MIGRATING, message)));
    }

    /** The plan once the VM's usual plan is known: a move instead, when it is steady and may go. */
    static VmPlan applied(VmFacts f, VmPlan plan) {
        VmFacts.Move move = f.target().move();
        Optional<ObservedDomain> domain = f.domain();
        if (!move.draining() || move.under().isPresent() || domain.isEmpty() || plan.status().isEmpty()
                || !plan.actions().isEmpty()) {
            return plan;
        }
        VmStatus status = plan.status().get();
        boolean steady = status.phase() == Phase.Running || status.phase() == Phase.Stopped;
        if (!steady) {
            return plan;
        }
        ObservedDomain d = domain.get();
        if (move.to().isPresent()) {
            String message = "moving from " + d.blade() + " to " + move.to().get();
            return new VmPlan(List.of(new Action.Migrate(d.blade(), move.to().get(), d.uuid(), d.isActive())),
                    Optional.of(status.with(Phase.Migrating, message, status.conditions())), plan.definedXml(),
                    plan.requeueAfter());
        }
        String message = status.message() + "; blade " + d.blade() + " is draining, but " + move.waiting();
        return new VmPlan(plan.actions(), Optional.of(status.with(status.phase(), message, status.conditions())),
                plan.definedXml(), Optional.of(plan.requeueAfter().filter(r -> r.compareTo(RETRY) < 0).orElse(RETRY)));
    }
}
