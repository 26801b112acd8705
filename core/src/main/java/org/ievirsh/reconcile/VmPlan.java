package org.ievirsh.reconcile;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.template.RenderedDomain;

/**
 * VmPlan is the planner's answer for one VM: the calls to make, in order,
 * the status to show (empty: remove the status files, the VM is gone), the
 * domain XML to record as defined (empty: leave the recorded one), and when
 * to look again even if nothing changes.
 */
public record VmPlan(List<Action> actions, Optional<VmStatus> status, Optional<RenderedDomain> definedXml,
                     Optional<Duration> requeueAfter) {
}
