package org.ievirsh.reconcile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.ievirsh.api.v1.Condition;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.RunStrategy;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.image.ImageVerdict;
import org.ievirsh.image.Inspection;
import org.ievirsh.libvirt.DomainState;
import org.ievirsh.libvirt.StopReason;
import org.ievirsh.quota.Admission;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * VmPlannerTest is the planner's table: each row starts from a valid VM
 * ({@link PlannerFixture}), changes what the row is about, and says which
 * calls the plan makes, which phase the status shows and what its
 * conditions say (and, where it matters, the message or the requeue).
 */
class VmPlannerTest {
    private static final Instant NOW = PlannerFixture.NOW;

    /** Row is one case of the table. */
    static final class Row {
        final String name;
        final Consumer<PlannerFixture> given;
        List<Class<?>> actions = List.of();
        Phase phase;
        boolean noStatus;
        final Map<String, String> conditions = new LinkedHashMap<>();
        final List<Consumer<VmPlan>> also = new ArrayList<>();

        Row(String name, Consumer<PlannerFixture> given) {
            this.name = name;
            this.given = given;
        }

        Row acts(Class<?>... kinds) {
            actions = List.of(kinds);
            return this;
        }

        Row phase(Phase expected) {
            phase = expected;
            return this;
        }

        Row noStatus() {
            noStatus = true;
            return this;
        }

        Row cond(String type, String statusAndReason) {
            conditions.put(type, statusAndReason);
            return this;
        }

        Row then(Consumer<VmPlan> check) {
            also.add(check);
            return this;
        }

        Row says(String text) {
            return then(plan -> assertTrue(status(plan).message().contains(text), status(plan).message()));
        }

        Row requeue(Duration after) {
            return then(plan -> assertEquals(Optional.ofNullable(after), plan.requeueAfter()));
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private static Row row(String name, Consumer<PlannerFixture> given) {
        return new Row(name, given);
    }

    private static VmStatus status(VmPlan plan) {
        return plan.status().orElseThrow();
    }

    private static Consumer<PlannerFixture> running() {
        return f -> f.domain(DomainState.RUNNING, StopReason.UNKNOWN);
    }

    private static Consumer<PlannerFixture> off(StopReason reason) {
        return f -> f.domain(DomainState.SHUTOFF, reason);
    }

    private static ObservedDomain domainOn(String blade, int uid) {
        return new ObservedDomain(blade, PlannerFixture.UUID, "alice-web", DomainState.RUNNING, StopReason.UNKNOWN,
                new org.ievirsh.template.DomainMetadata(uid, "alice", "web", "sha256:spec", "sha256:render-1",
                        List.of("52:54:00:00:00:01"), 2, 2L << 30, Optional.empty()), Optional.empty(), false);
    }

    private static ObservedDomain shutOffOn(String blade) {
        ObservedDomain on = domainOn(blade, 1001);
        return new ObservedDomain(blade, on.uuid(), on.name(), DomainState.SHUTOFF, StopReason.SHUTDOWN, on.config(),
                Optional.empty(), false);
    }

    static Stream<Row> rows() {
        return Stream.of(
                // A new VM.
                row("a new valid file is defined and started on its blade", f -> { })
                        .acts(Action.Define.class, Action.Start.class).phase(Phase.Starting)
                        .then(p -> assertEquals("blade01", p.actions().get(0).blade()))
                        .then(p -> assertEquals("<domain/>", p.definedXml().orElseThrow().xml()))
                        .then(p -> assertFalse(((Action.Start) p.actions().get(1)).afterFailure())),
                row("a new Halted VM is only defined", f -> f.strategy(RunStrategy.Halted)).acts(Action.Define.class),
                row("a new VM that cannot run for the running quota is only defined",
                        f -> f.admission = new Admission.Verdict(true, false, "2 of 2 running VMs in use: a, b"))
                        .acts(Action.Define.class),
                row("without a blade a new VM waits", f -> f.placement = VmFacts.Placement.waiting("waiting for b2"))
                        .phase(Phase.Pending),
                row("a VM held for the blade it was last on keeps that blade in its status", f -> {
                    f.blades = new VmFacts.Blades(List.of("b2"), List.of(), false, Optional.of("b2"));
                    f.placement = VmFacts.Placement.waiting("the VM was last on blade b2, which does not answer now");
                }).acts().phase(Phase.Pending).cond(Condition.SCHEDULED, "False/WaitingForBlade")
                        .then(p -> assertEquals("b2", status(p).blade(), "the next pass holds it for b2 too")),
                row("without room a new VM is unschedulable",
                        f -> f.placement = VmFacts.Placement.unschedulable("no blade has room for 2 vCPUs and 2GiB"))
                        .phase(Phase.Unschedulable).cond(Condition.SCHEDULED, "False/Unschedulable"),
                row("a domain name another domain has is a conflict", f -> f.nameTakenBy = Optional.of("a domain"
                        + " that ie-virsh does not manage on blade01")).phase(Phase.Error)
                        .cond(Condition.DEFINED, "False/Conflict").says("already used by a domain that ie-virsh"),

                // A running VM.
                row("a running VM that matches its file is left alone", running()).phase(Phase.Running)
                        .cond(Condition.READY, "True/Running").cond(Condition.RESTART_REQUIRED, "False/UpToDate")
                        .requeue(null),
                row("Halted asks the guest to shut down", running().andThen(f -> f.strategy(RunStrategy.Halted)))
                        .acts(Action.Shutdown.class).phase(Phase.Stopping),
                row("Halted waits for the guest during the grace period", running().andThen(f -> {
                    f.strategy(RunStrategy.Halted);
                    f.history = f.history.stopRequested(NOW.minusSeconds(10));
                })).phase(Phase.Stopping).says("forced off in 50s").requeue(Duration.ofSeconds(1)),
                row("Halted forces the guest off after the grace period", running().andThen(f -> {
                    f.strategy(RunStrategy.Halted);
                    f.history = VmHistory.NEW.observe(null, NOW).stopRequested(NOW.minusSeconds(61));
                })).acts(Action.Destroy.class),
                row("a changed definition redefines a running VM and waits for its next boot",
                        f -> f.domain(DomainState.RUNNING, StopReason.UNKNOWN, "sha256:render-0",
                                Optional.of("sha256:render-0"), false, true))
                        .acts(Action.Define.class).phase(Phase.Running)
                        .cond(Condition.RESTART_REQUIRED, "True/DefinitionChanged"),
                row("a definition changed outside is put back", f -> f.domain(DomainState.RUNNING, StopReason.UNKNOWN,
                        f.renderHash, Optional.of(f.renderHash), true, true)).acts(Action.Define.class),
                row("a running VM is never stopped for a finding", running().andThen(f -> f.inspection =
                        new Inspection(Inspection.State.INSECURE, true, "web.qcow2: root has an empty password", null)))
                        .phase(Phase.ImageRejected),

                // A stopped VM.
                row("a Halted VM that is off is stopped", off(StopReason.SHUTDOWN).andThen(
                        f -> f.strategy(RunStrategy.Halted))).phase(Phase.Stopped).cond(Condition.READY, "False/Halted"),
                row("Always starts a VM killed outside and counts it as a failure", off(StopReason.DESTROYED))
                        .acts(Action.Start.class).phase(Phase.Starting)
                        .then(p -> assertTrue(((Action.Start) p.actions().get(0)).afterFailure())),
                row("a defined but never started VM is started without counting a failure", off(StopReason.UNKNOWN))
                        .acts(Action.Start.class)
                        .then(p -> assertFalse(((Action.Start) p.actions().get(0)).afterFailure())),
                row("RerunOnFailure leaves a guest that powered itself off alone", off(StopReason.SHUTDOWN)
                        .andThen(f -> f.strategy(RunStrategy.RerunOnFailure)))
                        .phase(Phase.Stopped).cond(Condition.READY, "False/GuestPoweredOff"),
                row("RerunOnFailure restarts after a crash", f -> f.strategy(RunStrategy.RerunOnFailure)
                        .domain(DomainState.SHUTOFF, StopReason.CRASHED)).acts(Action.Start.class),
                row("RerunOnFailure restarts after a forced stop", f -> f.strategy(RunStrategy.RerunOnFailure)
                        .domain(DomainState.SHUTOFF, StopReason.DESTROYED)).acts(Action.Start.class),
                row("RerunOnFailure restarts after QEMU failed", f -> f.strategy(RunStrategy.RerunOnFailure)
                        .domain(DomainState.SHUTOFF, StopReason.FAILED)).acts(Action.Start.class),
                row("RerunOnFailure restarts after a stop we asked for", f -> {
                    f.strategy(RunStrategy.RerunOnFailure).domain(DomainState.RUNNING, StopReason.UNKNOWN);
                    f.history = f.history.stopRequested(NOW.minusSeconds(5));
                    f.domain(DomainState.SHUTOFF, StopReason.SHUTDOWN);
                    assertTrue(f.history.lastStop().ours());
                }).acts(Action.Start.class),
                row("a VM that keeps stopping backs off", f -> {
                    f.history = new VmHistory(null, false, null, new VmHistory.LastStop(NOW, StopReason.CRASHED,
                            false), 2, NOW.minusSeconds(5), List.of());
                    f.domain(DomainState.SHUTOFF, StopReason.CRASHED);
                }).phase(Phase.CrashLoopBackOff).requeue(Duration.ofSeconds(15)),
                row("a VM that kept stopping starts once its back-off is over", f -> {
                    f.history = new VmHistory(null, false, null, new VmHistory.LastStop(NOW, StopReason.CRASHED,
                            false), 2, NOW.minusSeconds(5), List.of());
                    f.domain(DomainState.SHUTOFF, StopReason.CRASHED);
                    f.now = NOW.plusSeconds(16);
                }).acts(Action.Start.class),
                row("a changed definition of a stopped VM is redefined, then started", f -> f.domain(
                        DomainState.SHUTOFF, StopReason.UNKNOWN, "sha256:render-0", Optional.empty(), false, true))
                        .acts(Action.Define.class, Action.Start.class),
                row("over the running quota a stopped VM stays stopped with the reason", off(StopReason.UNKNOWN)
                        .andThen(f -> f.admission = new Admission.Verdict(true, false, "2 of 2 running VMs in use")))
                        .phase(Phase.Stopped).cond(Condition.READY, "False/RunningQuotaExceeded"),
                row("a VM started five times within a minute waits before the next start", off(StopReason.UNKNOWN)
                        .andThen(f -> f.history = new VmHistory(null, false, null, null, 0, null, List.of(
                                NOW.minusSeconds(50), NOW.minusSeconds(40), NOW.minusSeconds(30),
                                NOW.minusSeconds(20), NOW.minusSeconds(10)))))
                        .phase(Phase.Stopped).cond(Condition.READY, "False/TooManyStarts")
                        .says("the next start in 10s").requeue(Duration.ofSeconds(10)),
                row("a VM started five times, the first over a minute ago, starts", off(StopReason.UNKNOWN)
                        .andThen(f -> f.history = new VmHistory(null, false, null, null, 0, null, List.of(
                                NOW.minusSeconds(61), NOW.minusSeconds(40), NOW.minusSeconds(30),
                                NOW.minusSeconds(20), NOW.minusSeconds(10))))).acts(Action.Start.class),

                // The file and the quota.
                row("an invalid file leaves the running VM as it is", f -> f.invalid(
                        "64GiB exceeds the template maximum 4GiB").domain(DomainState.RUNNING, StopReason.UNKNOWN))
                        .phase(Phase.Invalid).cond(Condition.VALID, "False/InvalidSpec")
                        .then(p -> assertTrue(status(p).message().startsWith("web.yaml:7:11: spec.memory: 64GiB"),
                                status(p).message()))
                        .says("the VM runs on as it was until the file is fixed")
                        .then(p -> assertEquals("blade01", status(p).blade())),
                row("over quota a new VM is not created", f -> f.admission = new Admission.Verdict(false, false,
                        "over quota: 4 of 4 VMs in use: a, b, c, d")).phase(Phase.QuotaExceeded),

                // The image.
                row("a rejected image creates nothing", f -> f.image = ImageVerdict.reject(
                        "/srv/images/alice/web.qcow2", "BackingFile", "web.qcow2: it names a backing file"))
                        .phase(Phase.ImageRejected).cond(Condition.IMAGE_READY, "False/BackingFile"),
                row("a rejected image never starts a stopped VM again", off(StopReason.DESTROYED).andThen(
                        f -> f.image = ImageVerdict.reject("/p", "BackingFile", "web.qcow2: it names a backing file")))
                        .phase(Phase.ImageRejected),
                row("Halted stops a running VM even while its image is refused", running().andThen(f -> {
                    f.strategy(RunStrategy.Halted);
                    f.image = ImageVerdict.reject("/p", "ImageNotOwned", "web.qcow2 belongs to uid 0");
                })).acts(Action.Shutdown.class).phase(Phase.Stopping).cond(Condition.IMAGE_READY, "False/ImageNotOwned")
                        .then(p -> assertTrue(p.definedXml().isEmpty(), "no rendering to record")),
                row("Halted stops a running VM whose image was found insecure", running().andThen(f -> {
                    f.strategy(RunStrategy.Halted);
                    f.inspection = new Inspection(Inspection.State.INSECURE, true, "web.qcow2: Vagrant's key", null);
                })).acts(Action.Shutdown.class).phase(Phase.Stopping),
                row("an image that is another VM's disk is refused", f -> f.imageInUseBy = "db")
                        .phase(Phase.ImageRejected).cond(Condition.IMAGE_READY, "False/ImageInUse")
                        .says("already the disk of VM db"),
                row("an image nothing is known of is looked at before the start", f -> f.inspection =
                        new Inspection(Inspection.State.NONE, true, "", null)).acts(Action.Inspect.class)
                        .phase(Phase.Pending).cond(Condition.IMAGE_READY, "Unknown/Inspecting")
                        .then(p -> assertEquals("1:2:3:4", ((Action.Inspect) p.actions().get(0)).version())),
                row("a blank image (it maps no cluster) starts without a look: it holds nothing to find", f -> {
                    f.inspection = new Inspection(Inspection.State.NONE, true, "", null);
                    f.image = ImageVerdict.acceptBlank("/srv/images/alice/web.qcow2", "1:2", "1:2:3:4");
                }).acts(Action.Define.class, Action.Start.class).phase(Phase.Starting),
                row("the image of a running VM is not looked at", running().andThen(f -> f.inspection =
                        new Inspection(Inspection.State.NONE, true, "", null))).phase(Phase.Running)
                        .cond(Condition.IMAGE_READY, "True/ImageAccepted"),
                row("while its image is looked at a new VM waits (enforce)", f -> f.inspection =
                        new Inspection(Inspection.State.INSPECTING, true, "looking inside web.qcow2", null))
                        .phase(Phase.Pending).cond(Condition.IMAGE_READY, "Unknown/Inspecting"),
                row("while its image is looked at a new VM waits (warn)", f -> f.inspection =
                        new Inspection(Inspection.State.INSPECTING, false, "looking inside web.qcow2", null))
                        .phase(Phase.Pending).cond(Condition.IMAGE_READY, "Unknown/Inspecting"),
                row("an insecure image is rejected when enforced", off(StopReason.CRASHED).andThen(f -> f.inspection =
                        new Inspection(Inspection.State.INSECURE, true, "web.qcow2: Vagrant's insecure RSA key is in"
                                + " /home/vagrant/.ssh/authorized_keys", null)))
                        .phase(Phase.ImageRejected).cond(Condition.IMAGE_READY, "False/InsecureImage")
                        .says("/home/vagrant/.ssh/authorized_keys"),
                row("an insecure image starts with the finding when warned", f -> f.inspection = new Inspection(
                        Inspection.State.INSECURE, false, "web.qcow2: Vagrant's insecure RSA key", null))
                        .acts(Action.Define.class, Action.Start.class).cond(Condition.IMAGE_READY, "True/InsecureImage"),
                row("a failed look holds the start when enforced and tries again later", f -> f.inspection =
                        new Inspection(Inspection.State.FAILED, true, "web.qcow2 could not be inspected",
                                Duration.ofMinutes(4))).phase(Phase.Pending)
                        .cond(Condition.IMAGE_READY, "Unknown/InspectionFailed").requeue(Duration.ofMinutes(4)),
                row("a clean image starts", f -> f.inspection = new Inspection(Inspection.State.CLEAN, true, "", null))
                        .acts(Action.Define.class, Action.Start.class),

                // Removal.
                row("a removed file shuts a running VM down", f -> f.absent().domain(DomainState.RUNNING,
                        StopReason.UNKNOWN)).acts(Action.Shutdown.class).phase(Phase.Terminating),
                row("a removed file undefines a VM that is off", f -> f.absent().domain(DomainState.SHUTOFF,
                        StopReason.SHUTDOWN)).acts(Action.Undefine.class),
                row("nothing is removed while the directory cannot be read", f -> {
                    f.absent().domain(DomainState.SHUTOFF, StopReason.SHUTDOWN);
                    f.readable = false;
                }).noStatus(),
                row("nothing is removed while the guard holds removals", f -> {
                    f.absent().domain(DomainState.SHUTOFF, StopReason.SHUTDOWN);
                    f.deletionBlocked = Optional.of("40 VMs would be removed at once");
                }).phase(Phase.Terminating).says("on hold").requeue(Duration.ofSeconds(30)),
                row("a VM that is gone everywhere loses its status", PlannerFixture::absent).noStatus(),

                // The blades.
                row("a VM on an unreachable blade is unknown and untouched", f -> {
                    f.strategy(RunStrategy.Halted);
                    f.domain(DomainState.RUNNING, StopReason.UNKNOWN, f.renderHash, Optional.of(f.renderHash), false,
                            false);
                }).phase(Phase.Unknown),
                row("a removed VM on an unreachable blade is left until it answers", f -> f.absent().domain(
                        DomainState.SHUTOFF, StopReason.UNKNOWN, f.renderHash, Optional.empty(), false, false))
                        .phase(Phase.Terminating),
                row("a stopped move cut short: the second definition goes", f -> f.observation = new Observation.Stale(
                        shutOffOn("b2"), List.of(shutOffOn("b3")))).acts(Action.Undefine.class).phase(Phase.Migrating)
                        .cond(Condition.READY, "False/Migrating").says("removing its definition on b3")
                        .then(plan -> assertEquals("b3", ((Action.Undefine) plan.actions().get(0)).blade())),
                row("a live move's paused leftover is destroyed, then undefined", f -> f.observation =
                        new Observation.Stale(domainOn("b3", 1001), List.of(pausedOn("b2"))))
                        .acts(Action.Destroy.class, Action.Undefine.class).phase(Phase.Running)
                        .then(plan -> assertEquals("b2", ((Action.Destroy) plan.actions().get(0)).blade())),
                row("a conflict touches nothing and says why", f -> f.observation = new Observation.Conflict(
                        "VM web has a domain on 2 blades (blade01, blade02)")).phase(Phase.Error)
                        .says("blade01, blade02"),

                // A failed call.
                row("a call that failed shows Error and is retried with back-off", f -> f.failure = Optional.of(
                        new VmFacts.Failure("blade01: start: Could not open web.qcow2: Permission denied",
                                "LibvirtError", true))).phase(Phase.Error).cond(Condition.READY, "False/LibvirtError")
                        .says("(retrying with back-off)").requeue(null),
                row("a definition libvirt refused waits for a change", f -> f.failure = Optional.of(
                        new VmFacts.Failure("blade01: define: unsupported configuration", "LibvirtError", false)))
                        .phase(Phase.Error).says("tried again when something changes"),

                // The semester: the VM's end.
                row("a VM with no end has no Expiring condition", running()).phase(Phase.Running)
                        .then(plan -> assertEquals(null, status(plan).condition(Condition.EXPIRING)))
                        .then(plan -> assertEquals(null, status(plan).expires())),
                row("a VM far from its end runs, not yet warned", running()
                        .andThen(ends(Duration.ofDays(30)))).acts().phase(Phase.Running)
                        .cond(Condition.EXPIRING, "False/ExpiresLater").requeue(null)
                        .then(plan -> assertEquals(NOW.plus(Duration.ofDays(30)).toString(), status(plan).expires())),
                row("within warnBefore it warns and runs on", running()
                        .andThen(ends(Duration.ofDays(3)))).acts().phase(Phase.Running)
                        .cond(Condition.EXPIRING, "True/ExpiresSoon").says("running").requeue(null)
                        .then(plan -> assertTrue(status(plan).condition(Condition.EXPIRING).message()
                                .equals("halts on 2026-11-29 12:00 +00:00 (in 3 days)"),
                                status(plan).condition(Condition.EXPIRING).message())),
                row("at its end a running VM is shut down, Expired", running().andThen(ends(Duration.ofSeconds(-1))))
                        .acts(Action.Shutdown.class).phase(Phase.Expired).says("expired on 2026-11-26 11:59 +00:00")
                        .cond(Condition.EXPIRING, "True/Expired"),
                row("an expired VM that does not listen is forced off after the grace period", running()
                        .andThen(ends(Duration.ofMinutes(-5))).andThen(f -> f.history = f.history.stopRequested(
                                NOW.minus(PlannerFixture.GRACE).minusSeconds(1))))
                        .acts(Action.Destroy.class).phase(Phase.Expired),
                row("an expired VM that is off stays off, Always or not", off(StopReason.SHUTDOWN)
                        .andThen(ends(Duration.ofDays(-2)))).acts().phase(Phase.Expired)
                        .cond(Condition.READY, "False/Expired").says("not started again until the date moves")
                        .requeue(null),
                row("an expired VM the file wants Halted is Expired too", off(StopReason.SHUTDOWN)
                        .andThen(f -> f.strategy(RunStrategy.Halted)).andThen(ends(Duration.ofDays(-2))))
                        .acts().phase(Phase.Expired),
                row("a new file whose VM has ended is defined but not started", ends(Duration.ofDays(-1)))
                        .acts(Action.Define.class).phase(Phase.Expired),
                // A student kept a VM past the course's end by breaking its file (issue 36): not any more.
                row("an expired VM whose file is invalid is shut down all the same", running()
                        .andThen(f -> f.invalid("64GiB exceeds the template maximum 4GiB"))
                        .andThen(ends(Duration.ofSeconds(-1)))).acts(Action.Shutdown.class).phase(Phase.Expired)
                        .cond(Condition.VALID, "False/InvalidSpec").cond(Condition.EXPIRING, "True/Expired"),
                row("and forced off when it does not listen", running()
                        .andThen(f -> f.invalid("64GiB exceeds the template maximum 4GiB"))
                        .andThen(ends(Duration.ofMinutes(-5))).andThen(f -> f.history = f.history.stopRequested(
                                NOW.minus(PlannerFixture.GRACE).minusSeconds(1))))
                        .acts(Action.Destroy.class).phase(Phase.Expired),
                row("and once off it is Expired and not started", off(StopReason.SHUTDOWN)
                        .andThen(f -> f.invalid("64GiB exceeds the template maximum 4GiB"))
                        .andThen(ends(Duration.ofDays(-2)))).acts().phase(Phase.Expired)
                        .cond(Condition.VALID, "False/InvalidSpec").says("not started again until the date moves"),
                row("before its end an invalid file leaves it running", running()
                        .andThen(f -> f.invalid("64GiB exceeds the template maximum 4GiB"))
                        .andThen(ends(Duration.ofDays(3)))).acts().phase(Phase.Invalid));
    }

    /** The rows of a VM whose file says spec.baseImage: debian-12 (DiskPlanner). */
    static Stream<Row> baseRows() {
        return Stream.of(
                row("a missing disk is made from the base, as the student", onBase(BASE, Optional.empty())
                        .andThen(missingDisk())).acts(Action.MakeOverlay.class).phase(Phase.Pending)
                        .cond(Condition.IMAGE_READY, "Unknown/MakingDisk")
                        .then(p -> assertEquals(new Action.MakeOverlay("web.qcow2", "/srv/base/debian-12.qcow2", 1L << 30),
                                p.actions().get(0))),
                row("a cloud-init VM's seed is made beside its disk", onBase(BASE, Optional.empty())
                        .andThen(missingDisk()).andThen(seed(false)))
                        .acts(Action.MakeOverlay.class, Action.MakeSeed.class).phase(Phase.Pending),
                row("a disk over the disk quota is not made", onBase(BASE, Optional.empty()).andThen(missingDisk())
                        .andThen(f -> f.disk = new DiskFacts(f.disk.base(), Optional.empty(), 2L << 30, 2L << 30)))
                        .acts().phase(Phase.QuotaExceeded).cond(Condition.ADMITTED, "False/QuotaExceeded")
                        .says("would exceed your disk quota of 2GiB: 2GiB are taken"),
                row("a disk smaller than the base is refused", onBase(BASE, Optional.empty()).andThen(missingDisk())
                        .andThen(f -> f.disk = new DiskFacts(Optional.of(base(BASE, Optional.empty(), 1L << 20)),
                                Optional.empty(), 0, Long.MAX_VALUE)))
                        .acts().phase(Phase.Invalid).says("smaller than the base image debian-12"),
                row("there is no such base", onBase(null, Optional.empty()).andThen(missingDisk())).acts()
                        .phase(Phase.ImageRejected).cond(Condition.IMAGE_READY, "False/BaseImageRejected")
                        .says("there is no base image debian-12 (ie-virsh bases lists them)"),
                row("a base that breaks a rule serves no VM", onBase(new org.ievirsh.image.BaseImages.Base("debian-12",
                        java.nio.file.Path.of("/srv/base/debian-12.qcow2"), "v1", 1L << 30,
                        org.ievirsh.image.BaseImages.Descriptor.NONE, Optional.of("it must be root's")), Optional.empty())
                        .andThen(missingDisk())).acts().phase(Phase.ImageRejected)
                        .cond(Condition.IMAGE_READY, "False/BaseImageRejected").says("it must be root's"),
                row("a file at the disk's name not made from the base is refused, and kept",
                        onBase(BASE, Optional.empty())).acts().phase(Phase.ImageRejected)
                        .cond(Condition.IMAGE_READY, "False/NotAnOverlayOfBase").says("ie-virsh reset web"),
                row("a disk made from the base goes on as any image", onBase(BASE, Optional.empty())
                        .andThen(overlay("/srv/base/debian-12.qcow2"))).acts(Action.Define.class, Action.Start.class),
                row("a base not looked inside yet is looked at before the first VM starts",
                        onBase(BASE, Optional.empty()).andThen(overlay("/srv/base/debian-12.qcow2"))
                                .andThen(looked(Inspection.State.NONE)))
                        .acts(Action.InspectBase.class).phase(Phase.Pending).cond(Condition.IMAGE_READY, "Unknown/Inspecting"),
                row("an insecure base serves no VM", onBase(BASE, Optional.empty())
                        .andThen(overlay("/srv/base/debian-12.qcow2")).andThen(looked(Inspection.State.INSECURE)))
                        .acts().phase(Phase.ImageRejected).cond(Condition.IMAGE_READY, "False/InsecureImage"),
                row("a base that changed under a running VM holds it; it runs on", running()
                        .andThen(onBase(BASE, Optional.of("debian-12@v0"))).andThen(overlay("/srv/base/debian-12.qcow2")))
                        .acts().phase(Phase.Error).cond(Condition.IMAGE_READY, "False/BaseImageChanged")
                        .says("it runs on meanwhile"),
                row("a base that changed: a VM to halt is still stopped", running()
                        .andThen(f -> f.strategy(RunStrategy.Halted)).andThen(onBase(BASE, Optional.of("debian-12@v0")))
                        .andThen(overlay("/srv/base/debian-12.qcow2"))).acts(Action.Shutdown.class)
                        .cond(Condition.IMAGE_READY, "False/BaseImageChanged"),
                row("a base that is gone under a stopped VM holds it", off(StopReason.SHUTDOWN)
                        .andThen(onBase(null, Optional.of("debian-12@v1"))).andThen(overlay("/srv/base/debian-12.qcow2")))
                        .acts().phase(Phase.Error).cond(Condition.IMAGE_READY, "False/BaseImageChanged").says("is gone"),
                row("the same base back: the VM goes on", off(StopReason.SHUTDOWN)
                        .andThen(onBase(BASE, Optional.of("debian-12@v1"))).andThen(overlay("/srv/base/debian-12.qcow2")))
                        .acts(Action.Start.class),
                row("a domain made from another base, before the file changed its base, is no overlay of this one",
                        off(StopReason.SHUTDOWN).andThen(onBase(BASE, Optional.of("debian-11@v9")))
                                .andThen(overlay("/srv/base/debian-11.qcow2"))).acts().phase(Phase.ImageRejected)
                        .cond(Condition.IMAGE_READY, "False/NotAnOverlayOfBase"),
                row("a seed made from other inputs is made again before the VM is defined",
                        onBase(BASE, Optional.empty()).andThen(overlay("/srv/base/debian-12.qcow2")).andThen(seed(false)))
                        .acts(Action.MakeSeed.class, Action.Define.class, Action.Start.class),
                row("a current seed is not made again", onBase(BASE, Optional.empty())
                        .andThen(overlay("/srv/base/debian-12.qcow2")).andThen(seed(true)))
                        .acts(Action.Define.class, Action.Start.class),
                row("a new seed for a running VM waits for its next boot: no restart required", running()
                        .andThen(onBase(BASE, Optional.of("debian-12@v1"))).andThen(overlay("/srv/base/debian-12.qcow2"))
                        .andThen(seed(false))).acts(Action.MakeSeed.class).phase(Phase.Running)
                        .then(p -> assertEquals("False", status(p).condition(Condition.RESTART_REQUIRED).status())));
    }

    private static final org.ievirsh.image.BaseImages.Base BASE = new org.ievirsh.image.BaseImages.Base("debian-12",
            java.nio.file.Path.of("/srv/base/debian-12.qcow2"), "v1", 1L << 30,
            org.ievirsh.image.BaseImages.Descriptor.NONE, Optional.empty());

    private static DiskFacts.Base base(org.ievirsh.image.BaseImages.Base entry, Optional<String> recorded, long size) {
        return new DiskFacts.Base("debian-12", true, Optional.ofNullable(entry), entry == null ? null
                : new Inspection(Inspection.State.CLEAN, true, "", null), recorded,
                size < 0 ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(size));
    }

    /** The file asks for base debian-12 ({@code entry}: the catalog's file, null: none); the domain recorded {@code recorded}. */
    private static Consumer<PlannerFixture> onBase(org.ievirsh.image.BaseImages.Base entry, Optional<String> recorded) {
        return f -> f.disk = new DiskFacts(Optional.of(base(entry, recorded, -1)), Optional.empty(), 0, Long.MAX_VALUE);
    }

    private static Consumer<PlannerFixture> missingDisk() {
        return f -> f.image = ImageVerdict.reject("/srv/images/alice/web.qcow2", ImageVerdict.NOT_FOUND, "not there");
    }

    private static Consumer<PlannerFixture> overlay(String of) {
        return f -> f.image = ImageVerdict.accept("/srv/images/alice/web.qcow2", "1:2", "1:2:3:4")
                .over(Optional.of(of), 1L << 30);
    }

    private static Consumer<PlannerFixture> looked(Inspection.State state) {
        return f -> {
            DiskFacts.Base b = f.disk.base().orElseThrow();
            f.disk = new DiskFacts(Optional.of(new DiskFacts.Base(b.name(), b.asked(), b.entry(),
                    new Inspection(state, true, "the base image debian-12 is not safe", null), b.recorded(), b.size())),
                    f.disk.seed(), f.disk.used(), f.disk.limit());
        };
    }

    private static Consumer<PlannerFixture> seed(boolean current) {
        return f -> f.disk = new DiskFacts(f.disk.base(), Optional.of(new DiskFacts.Seed(
                "/srv/images/alice/.seed/web.iso", "sha256:inputs", current, "/home/alice/ie-virsh/web.user-data",
                PlannerFixture.UUID)),
                f.disk.used(), f.disk.limit());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("baseRows")
    void baseImages(Row row) {
        planner(row);
    }

    /** The VM ends {@code fromNow} after the fixture's now (the admin's date; the file gives none). */
    private static Consumer<PlannerFixture> ends(Duration fromNow) {
        return f -> f.lifetime = new VmFacts.Lifetime(Optional.empty(), Optional.of(NOW.plus(fromNow)), "",
                Duration.ofDays(7), java.time.ZoneOffset.UTC);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void planner(Row row) {
        PlannerFixture f = new PlannerFixture();
        row.given.accept(f);
        VmPlan plan = f.plan();
        assertEquals(row.actions, plan.actions().stream().<Class<?>>map(Object::getClass).toList(), "actions");
        if (row.noStatus) {
            assertTrue(plan.status().isEmpty(), "no status");
        } else if (row.phase != null) {
            assertEquals(row.phase, status(plan).phase(), status(plan).message());
        }
        row.conditions.forEach((type, expected) -> {
            Condition c = status(plan).condition(type);
            assertEquals(expected, c.status() + "/" + c.reason(), type + ": " + c.message());
        });
        row.also.forEach(check -> check.accept(plan));
    }

    /** What the blades show, sorted: the observation rows. */
    @Test
    void domainsOnSeveralBladesOrOfAnotherUidAreConflicts() {
        assertTrue(ObservationPlanner.observe("web", 1001, List.of(), b -> true) instanceof Observation.None);
        assertTrue(ObservationPlanner.observe("web", 1001, List.of(domainOn("b1", 1001)), b -> true)
                instanceof Observation.Found found && found.bladeUp());
        assertFalse(((Observation.Found) ObservationPlanner.observe("web", 1001, List.of(domainOn("b1", 1001)), b -> false))
                .bladeUp());
        Observation two = ObservationPlanner.observe("web", 1001, List.of(domainOn("b2", 1001), domainOn("b1", 1001)),
                b -> true);
        assertTrue(((Observation.Conflict) two).message().contains("on 2 blades (b1, b2)"));
        Observation running = ObservationPlanner.observe("web", 1001, List.of(domainOn("b1", 1001), shutOffOn("b2")),
                b -> true);
        assertTrue(running instanceof Observation.Conflict, "running beside a definition, without restartElsewhere: "
                + running);
        Observation other = ObservationPlanner.observe("web", 1001, List.of(domainOn("b1", 2002)), b -> true);
        assertTrue(((Observation.Conflict) other).message().contains("belongs to uid 2002, not to uid 1001"));
    }

    /**
     * Killed between the two calls of a stopped VM's move (defined there, undefined here): the same VM shut off
     * on two blades that answer keeps one definition; with a blade that does not answer, or another UUID, an
     * admin decides.
     */
    @Test
    void theSameVmShutOffOnTwoBladesIsAMoveCutShort() {
        Observation cut = ObservationPlanner.observe("web", 1001, List.of(shutOffOn("b2"), shutOffOn("b3")), b -> true);
        assertTrue(cut instanceof Observation.Stale stale && stale.live().blade().equals("b2")
                && stale.stale().size() == 1 && stale.stale().get(0).blade().equals("b3"), cut.toString());
        Observation unreachable = ObservationPlanner.observe("web", 1001, List.of(shutOffOn("b2"), shutOffOn("b3")),
                b -> b.equals("b2"));
        assertTrue(unreachable instanceof Observation.Conflict, unreachable.toString());
        ObservedDomain b3 = shutOffOn("b3");
        ObservedDomain another = new ObservedDomain("b3", "00000000-0000-0000-0000-0000000000ff", b3.name(),
                b3.state(), b3.stopReason(), b3.config(), Optional.empty(), false);
        Observation twoVms = ObservationPlanner.observe("web", 1001, List.of(shutOffOn("b2"), another), b -> true);
        assertTrue(twoVms instanceof Observation.Conflict, twoVms.toString());
    }

    /**
     * Found by bench chaos: a live move whose last step failed while a blade restarted left the source paused
     * ("probably left in 'paused' state on source"; shut off once that blade's libvirtd restarted), and the VM was
     * Error on two blades for good. A paused copy beside the one running goes, and a shut-off one with a lock
     * engine; two running, a blade that does not answer or another UUID leave it to an admin.
     */
    @Test
    void aLiveMovesPausedLeftoverBesideTheRunningGuestIsStale() {
        Observation left = ObservationPlanner.observe("web", 1001, List.of(pausedOn("b2"), domainOn("b3", 1001)), b -> true);
        assertTrue(left instanceof Observation.Stale stale && stale.live().blade().equals("b3")
                && stale.stale().equals(List.of(pausedOn("b2"))), left.toString());
        Observation off = ObservationPlanner.observe("web", 1001, List.of(shutOffOn("b2"), domainOn("b3", 1001)), b -> true,
                ObservationPlanner.BladeDown.keep(true));
        assertTrue(off instanceof Observation.Stale stale && stale.live().blade().equals("b3")
                && stale.stale().equals(List.of(shutOffOn("b2"))), "shut off once its libvirtd restarted: " + off);
        assertTrue(ObservationPlanner.observe("web", 1001, List.of(shutOffOn("b2"), domainOn("b3", 1001)), b -> true)
                instanceof Observation.Conflict, "a shut-off definition without a lock engine: an admin decides");
        assertTrue(ObservationPlanner.observe("web", 1001, List.of(pausedOn("b2"), domainOn("b3", 1001)), b -> b.equals("b3"))
                instanceof Observation.Conflict, "its blade does not answer");
        assertTrue(ObservationPlanner.observe("web", 1001, List.of(domainOn("b2", 1001), domainOn("b3", 1001)), b -> true)
                instanceof Observation.Conflict, "two running");
        ObservedDomain paused = pausedOn("b2");
        ObservedDomain another = new ObservedDomain("b2", "00000000-0000-0000-0000-0000000000ff", paused.name(),
                paused.state(), paused.stopReason(), paused.config(), Optional.empty(), false);
        assertTrue(ObservationPlanner.observe("web", 1001, List.of(another, domainOn("b3", 1001)), b -> true)
                instanceof Observation.Conflict, "another VM");
    }

    private static ObservedDomain pausedOn(String blade) {
        ObservedDomain on = domainOn(blade, 1001);
        return new ObservedDomain(blade, on.uuid(), on.name(), DomainState.PAUSED, StopReason.UNKNOWN, on.config(),
                Optional.empty(), false);
    }

    /** With restartElsewhere: only a VM that should run leaves a dead blade. */
    @Test
    void aStrandedVmIsMadeAgainElsewhereOnlyWhenItShouldRun() {
        ObservationPlanner.BladeDown down = new ObservationPlanner.BladeDown(true, b -> Optional.of(Duration.ofMinutes(3)));
        ObservedDomain on = domainOn("b1", 1001);
        ObservedDomain off = new ObservedDomain("b1", PlannerFixture.UUID, "alice-web", DomainState.SHUTOFF,
                StopReason.SHUTDOWN, on.config(), Optional.empty(), false);
        Observation running = ObservationPlanner.observe("web", 1001, List.of(on), b -> false, down);
        Observation stopped = ObservationPlanner.observe("web", 1001, List.of(off), b -> false, down);
        assertTrue(running instanceof Observation.Stranded, running.toString());
        assertTrue(stopped instanceof Observation.Stranded, stopped.toString());
        for (RunStrategy strategy : RunStrategy.values()) {
            Desired want = new PlannerFixture().strategy(strategy).facts().asked().desired();
            VmHistory history = VmHistory.NEW.observe(on, NOW);
            assertTrue(ObservationPlanner.strandedIfItShouldRun(running, want, history) instanceof Observation.Stranded
                    == (strategy != RunStrategy.Halted), strategy + ", last seen running");
            VmHistory powered = VmHistory.NEW.observe(off, NOW);
            boolean again = strategy == RunStrategy.Always;  // a guest that powered itself off stays off otherwise
            assertEquals(again, ObservationPlanner.strandedIfItShouldRun(stopped, want, powered)
                    instanceof Observation.Stranded, strategy + ", last seen powered off by its guest");
        }
        Observation absent = ObservationPlanner.strandedIfItShouldRun(running, new Desired.Absent(), VmHistory.NEW);
        assertTrue(absent instanceof Observation.Found found && !found.bladeUp(), "a removed file: waits for its blade");
    }

    /** When a new VM must wait for a blade: the hold rows. */
    @Test
    void aNewVmWaitsForItsLastBladeAndDuringTheStartupGraceForEveryUnlistedOne() {
        assertEquals(Optional.empty(), PlacementPlanner.hold(VmFacts.Blades.ALL_UP));
        assertTrue(PlacementPlanner.hold(new VmFacts.Blades(List.of("b2"), List.of(), false, Optional.of("b2")))
                .orElseThrow().contains("last on blade b2"));
        assertTrue(PlacementPlanner.hold(new VmFacts.Blades(List.of("b2"), List.of("b2"), true, Optional.empty()))
                .orElseThrow().contains("waiting for blade b2"));
        assertEquals(Optional.empty(), PlacementPlanner.hold(new VmFacts.Blades(List.of("b2"), List.of("b2"), false,
                Optional.of("b1"))), "after the grace, a dead blade holds only its own VMs");
    }

    @Test
    void restartDelaysDoubleUpToFiveMinutes() {
        assertEquals(Duration.ZERO, VmHistory.restartDelay(0));
        assertEquals(Duration.ofSeconds(10), VmHistory.restartDelay(1));
        assertEquals(Duration.ofSeconds(20), VmHistory.restartDelay(2));
        assertEquals(Duration.ofSeconds(160), VmHistory.restartDelay(5));
        assertEquals(Duration.ofMinutes(5), VmHistory.restartDelay(6));
        assertEquals(Duration.ofMinutes(5), VmHistory.restartDelay(60));
    }

    @Test
    void aLongRunForgetsTheCrashLoop() {
        VmHistory h = new VmHistory(null, true, NOW.minus(VmHistory.STABLE), null, 4, NOW, List.of());
        PlannerFixture f = new PlannerFixture().domain(DomainState.RUNNING, StopReason.UNKNOWN);
        assertEquals(0, h.observe(((Observation.Found) f.observation).domain(), NOW).restarts());
    }

    @Test
    void theStatusCarriesWhatTheStudentNeeds() {
        VmStatus s = status(new PlannerFixture().domain(DomainState.RUNNING, StopReason.UNKNOWN).plan());
        assertEquals("web", s.name());
        assertEquals(new VmStatus.Owner("alice", 1001), s.owner());
        assertEquals("blade01", s.blade());
        assertEquals("alice-web", s.domain());
        assertEquals(PlannerFixture.UUID, s.uuid());
        assertEquals("52:54:00:00:00:01", s.mac());
        assertEquals(2, s.vcpus());
        assertEquals("2GiB", s.memory());
        assertEquals("standard", s.template());
        assertEquals("/srv/images/alice/web.qcow2", s.image());
        assertEquals("sha256:spec", s.observedSpecHash());
        assertEquals(7, s.conditions().size());
    }
}
