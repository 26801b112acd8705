package org.ievirsh.reconcile;

import static org.ievirsh.reconcile.StatusBuilder.cond;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.ievirsh.api.v1.Condition;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.Reasons;
import org.ievirsh.api.v1.RunStrategy;
import org.ievirsh.api.v1.VirtualMachine;
import org.ievirsh.api.v1.VmStatus;

/**
 * LifetimePlanner applies a VM's end (the README's "The semester") to the planner's
 * work: an expired VM is planned as if its file said {@code Halted} (ACPI,
 * then forced after the grace period; never started again while the date
 * stands), and shown as {@code Expired}; one within {@code warnBefore} of
 * its end has the {@code Expiring} condition and runs on. (The moment its
 * stage changes, the student's pass is made again: see
 * {@link UserFacts#nextChange}.) Pure, like the planner.
 */
final class LifetimePlanner {
    private LifetimePlanner() {
    }

    /** The facts to plan by: for an expired VM, its file as if it said Halted. */
    static VmFacts asPlanned(VmFacts f) {
        if (f.asked().lifetime().stage(f.now()) != VmFacts.Lifetime.Stage.EXPIRED
                || !(f.asked().desired() instanceof Desired.Valid valid)
                || valid.vm().runStrategy() == RunStrategy.Halted) {
            return f;
        }
        VirtualMachine vm = valid.vm();
        VirtualMachine halted = vm.withRunStrategy(RunStrategy.Halted);
        return f.desiring(new Desired.Valid(halted, valid.specHash(), valid.template(), valid.vcpus(),
                valid.memoryBytes()));
    }

    /** The plan with the VM's stage in its status, and a look again when the stage changes. */
    static VmPlan applied(VmFacts f, VmPlan plan) {
        VmFacts.Lifetime lifetime = f.asked().lifetime();
        VmFacts.Lifetime.Stage stage = lifetime.stage(f.now());
        if (stage == VmFacts.Lifetime.Stage.FOREVER || plan.status().isEmpty()) {
            return plan;
        }
        VmStatus status = plan.status().get();
        List<Condition> conditions = new ArrayList<>(status.conditions());
        String end = lifetime.endText();
        Phase phase = status.phase();
        String message = status.message();
        switch (stage) {
            case LIVING:
                conditions.add(cond(Condition.EXPIRING, false, Reasons.EXPIRES_LATER, "halts on " + end));
                break;
            case EXPIRING:
                conditions.add(cond(Condition.EXPIRING, true, Reasons.EXPIRES_SOON, "halts on " + end + " (in "
                        + days(Duration.between(f.now(), lifetime.end().get())) + ")"));
                break;
            default:
                String ended = "expired on " + end + "; it is not started again until the date moves (the admin"
                        + " extends it, or an earlier spec.expires is removed)";
                conditions.add(cond(Condition.EXPIRING, true, Reasons.EXPIRED, ended));
                if (phase == Phase.Stopping) {
                    phase = Phase.Expired;
                    message = "expired on " + end + ": " + message;
                } else if (phase == Phase.Stopped || phase == Phase.Pending) {
                    phase = Phase.Expired;
                    message = ended;
                }
                if (phase == Phase.Expired) {
                    conditions.replaceAll(c -> c.type().equals(Condition.READY)
                            ? cond(Condition.READY, false, Reasons.EXPIRED, ended) : c);
                }
                break;
        }
        return new VmPlan(plan.actions(), Optional.of(status.with(phase, message, List.copyOf(conditions))),
                plan.definedXml(), plan.requeueAfter());
    }

    /** "3 days", "1 day", rounded up: what is left before the end. */
    static String days(Duration left) {
        long days = (left.toHours() + 23) / 24;
        return days <= 1 ? "1 day" : days + " days";
    }
}
