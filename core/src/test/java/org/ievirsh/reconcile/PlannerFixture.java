package org.ievirsh.reconcile;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.ievirsh.api.Problem;
import org.ievirsh.api.v1.RunStrategy;
import org.ievirsh.api.v1.VirtualMachine;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.image.ImageVerdict;
import org.ievirsh.image.Inspection;
import org.ievirsh.libvirt.DomainState;
import org.ievirsh.libvirt.StopReason;
import org.ievirsh.quota.Admission;
import org.ievirsh.template.DomainMetadata;
import org.ievirsh.template.RenderedDomain;

/** PlannerFixture builds {@link VmFacts} for table tests: a valid VM, then the one thing each row changes. */
final class PlannerFixture {
    static final Instant NOW = Instant.parse("2026-11-26T12:00:00Z");
    static final String UUID = "11111111-2222-8333-8444-555555555555";
    static final Duration GRACE = Duration.ofSeconds(60);

    RunStrategy strategy = RunStrategy.Always;
    Desired desired;
    Admission.Verdict admission = new Admission.Verdict(true, true, "");
    ImageVerdict image = ImageVerdict.accept("/srv/images/alice/web.qcow2", "1:2", "1:2:3:4");
    String imageInUseBy = null;
    Inspection inspection = null;
    String renderHash = "sha256:render-1";
    VmFacts.Placement placement = VmFacts.Placement.on("blade01");
    VmFacts.Blades blades = VmFacts.Blades.ALL_UP;
    Observation observation = new Observation.None();
    VmHistory history = VmHistory.NEW;
    boolean readable = true;
    Optional<String> deletionBlocked = Optional.empty();
    Optional<String> nameTakenBy = Optional.empty();
    Optional<VmFacts.Failure> failure = Optional.empty();
    Instant now = NOW;

    static DomainMetadata metadata(String renderHash) {
        return new DomainMetadata(1001, "alice", "web", "sha256:spec", renderHash, List.of("52:54:00:00:00:01"), 2,
                2L << 30, Optional.empty());
    }

    PlannerFixture strategy(RunStrategy s) {
        this.strategy = s;
        return this;
    }

    PlannerFixture domain(DomainState state, StopReason reason) {
        return domain(state, reason, renderHash, Optional.of(renderHash), false, true);
    }

    PlannerFixture domain(DomainState state, StopReason reason, String configHash, Optional<String> liveHash,
                          boolean drifted, boolean bladeUp) {
        ObservedDomain d = new ObservedDomain("blade01", UUID, "alice-web", state, reason, metadata(configHash),
                state.isActive() ? liveHash : Optional.empty(), drifted);
        this.observation = new Observation.Found(d, bladeUp);
        this.history = history.observe(d, now);
        return this;
    }

    PlannerFixture invalid(String message) {
        this.desired = new Desired.Invalid(List.of(new Problem("web.yaml", 7, 11, "spec.memory", message)),
                Optional.of("sha256:spec"), "template");
        return this;
    }

    PlannerFixture absent() {
        this.desired = new Desired.Absent();
        return this;
    }

    List<VmStatus.Address> addresses = List.of();
    VmFacts.Lifetime lifetime = VmFacts.Lifetime.FOREVER;
    VmFacts.Move move = VmFacts.Move.NONE;
    DiskFacts disk = DiskFacts.STANDALONE;
    /** The rendered domain's XML: a blade that is really called (the fake) reads its name and UUID there. */
    String xml = "<domain/>";

    VmFacts facts() {
        Desired d = desired != null ? desired : new Desired.Valid(new VirtualMachine("web", Optional.empty(),
                "web.qcow2", strategy, OptionalInt.empty(), OptionalLong.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), OptionalLong.empty(), Optional.empty(), Optional.empty()),
                "sha256:spec", "standard", 2, 2L << 30);
        boolean valid = d instanceof Desired.Valid;
        RenderedDomain rendered = valid ? new RenderedDomain(() -> xml, renderHash, metadata(renderHash),
                "alice-web", UUID, 2, 2L << 30, "/srv/images/alice/web.qcow2", "qcow2") : null;
        return new VmFacts("web", new VmStatus.Owner("alice", 1001), new VmFacts.Asked(d, lifetime, GRACE),
                new VmFacts.Seen(observation, history, addresses, readable, failure),
                new VmFacts.Allowed(valid ? admission : null, valid ? image : null, valid ? imageInUseBy : null,
                        valid ? inspection : null, disk, deletionBlocked, Duration.ofSeconds(30)),
                new VmFacts.Target("alice-web", rendered, nameTakenBy, blades, placement, move), now);
    }

    VmPlan plan() {
        return VmPlanner.plan(facts());
    }
}
