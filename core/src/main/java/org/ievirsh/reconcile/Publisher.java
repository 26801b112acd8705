package org.ievirsh.reconcile;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.logging.Logger;
import org.ievirsh.api.v1.Condition;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.Reasons;
import org.ievirsh.api.v1.VirtualMachine;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.course.ConsoleWatch;
import org.ievirsh.metrics.Metrics;
import org.ievirsh.metrics.PerVmCollector;
import org.ievirsh.posix.PosixException;
import org.ievirsh.status.StatusBook;
import org.ievirsh.status.StatusWriter;
import org.ievirsh.template.RenderedDomain;

/**
 * Publisher tells what a pass found: each VM's status in the student's
 * {@code .status} (not rewritten when unchanged; the files of VMs that are
 * gone removed), the admins' copy in the {@link StatusBook}, the metrics,
 * and one log line per VM whose phase changed.
 */
final class Publisher {
    private static final Logger LOG = Logger.getLogger(Publisher.class.getName());

    private final StatusWriter writer;
    private final StatusBook book;
    private final Metrics metrics;
    private final PerVmCollector perVm;
    private final ConsoleWatch watch;

    Publisher(StatusWriter writer, StatusBook book, Metrics metrics, PerVmCollector perVm, ConsoleWatch watch) {
        this.watch = watch;
        this.writer = writer;
        this.book = book;
        this.metrics = metrics;
        this.perVm = perVm;
    }

    /** Publishes the pass; returns true when every status was written (or needed none). */
    boolean publish(UserFacts user, List<Converger.Converged> vms, UserMemory memory) {
        Map<String, VmStatus> statuses = new HashMap<>();
        Map<String, Optional<RenderedDomain>> definedXml = new HashMap<>();
        for (Converger.Converged vm : vms) {
            VmPlan plan = vm.plan();
            if (plan.status().isPresent()) {
                statuses.put(vm.facts().vm(), watched(user.user(), plan.status().get()));
                definedXml.put(vm.facts().vm(), plan.definedXml());
            }
        }
        Map<String, VmStatus> written = write(user, statuses, definedXml, memory);
        for (Converger.Converged vm : vms) {
            if (vm.facts().target().rendered() != null) {
                vm.facts().target().rendered().forgetText();
            }
        }
        book.putUser(user.user(), written);
        logPhases(user.user(), written, memory);
        perVm.quotaOf(user.user(), user.quota());
        report(user.user(), vms);
        return user.readable() && user.dir() != null && written != statuses;
    }

    /** The status with condition ConsoleOpen while an instructor has the VM's console open. */
    private VmStatus watched(String user, VmStatus status) {
        return watch.watcher(user, status.name()).map(who -> status.withCondition(new Condition(Condition.CONSOLE_OPEN,
                "True", Reasons.INSTRUCTOR_CONSOLE, who + " has your console open", null))).orElse(status);
    }

    private Map<String, VmStatus> write(UserFacts user, Map<String, VmStatus> statuses,
                                        Map<String, Optional<RenderedDomain>> definedXml, UserMemory memory) {
        if (!user.readable() || user.dir() == null) {
            return statuses;
        }
        Map<String, VmStatus> written = new HashMap<>();
        try (StatusWriter.Files files = writer.open(user.dir(), memory.statuses, user.owner().fileUid(),
                user.owner().fileGid())) {
            for (Map.Entry<String, VmStatus> e : statuses.entrySet()) {
                written.put(e.getKey(), files.write(e.getValue(), definedXml.get(e.getKey())));
            }
            Set<String> stale = files.present();
            stale.removeAll(statuses.keySet());
            stale.removeAll(user.away());  // what is known of a VM whose blade does not answer
            for (String name : stale) {
                // Only files the controller could have written: a VM that is gone (its name is valid).
                if (VirtualMachine.isValidName(name)) {
                    files.remove(name);
                }
            }
            if (memory.statusProblem != null) {
                LOG.info("the status of " + user.user() + " is written again in " + user.entry().directory()
                        + "/.status");
                memory.statusProblem = null;
            }
        } catch (PosixException e) {
            metrics.statusWriteFailed();
            if (!e.getMessage().equals(memory.statusProblem)) {
                memory.statusProblem = e.getMessage();
                LOG.warning("cannot write the status of " + user.user() + " in " + user.entry().directory()
                        + "/.status: " + e.getMessage());
            }
            return statuses;
        }
        return written;
    }

    /** One line per VM whose phase changed (and for a VM that is gone), none for a VM that stays the same. */
    private static void logPhases(String user, Map<String, VmStatus> statuses, UserMemory memory) {
        for (VmStatus status : statuses.values()) {
            Phase before = memory.phases.put(status.name(), status.phase());
            if (before != status.phase()) {
                LOG.info(user + "/" + status.name() + ": " + (before == null ? "" : before + " -> ") + status.phase()
                        + (status.message() == null || status.message().isEmpty() ? "" : ": " + status.message()));
            }
        }
        for (String vm : Set.copyOf(memory.phases.keySet())) {
            if (!statuses.containsKey(vm)) {
                memory.phases.remove(vm);
                LOG.info(user + "/" + vm + ": removed");
            }
        }
    }

    private void report(String user, List<Converger.Converged> vms) {
        Map<String, Integer> specErrors = new HashMap<>();
        Map<String, Integer> imageErrors = new HashMap<>();
        int conflicts = 0;
        Set<String> changedBases = new TreeSet<>();
        for (Converger.Converged converged : vms) {
            VmFacts vm = converged.facts();
            if (vm.allowed().disk() != null && vm.domain().isPresent()) {
                vm.allowed().disk().base().filter(DiskFacts.Base::changed).ifPresent(b -> changedBases.add(b.name()));
            }
            if (vm.asked().desired() instanceof Desired.Invalid invalid) {
                specErrors.merge(invalid.reason(), 1, Integer::sum);
            }
            ImagePlanner.problem(vm).ifPresent(reason -> imageErrors.merge(reason, 1, Integer::sum));
            if (vm.seen().observation() instanceof Observation.Conflict
                    || vm.domain().isEmpty() && vm.target().nameTakenBy().isPresent()) {
                conflicts++;
            }
        }
        metrics.specErrors(user, specErrors);
        metrics.imagesRejected(user, imageErrors);
        metrics.conflicts(user, conflicts);
        metrics.changedBases(user, changedBases);
    }
}
