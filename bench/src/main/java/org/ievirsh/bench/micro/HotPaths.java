package org.ievirsh.bench.micro;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.ievirsh.api.v1.VirtualMachineFile;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.image.ImageVerdict;
import org.ievirsh.libvirt.DomainState;
import org.ievirsh.libvirt.StopReason;
import org.ievirsh.quota.Admission;
import org.ievirsh.reconcile.Desired;
import org.ievirsh.reconcile.Observation;
import org.ievirsh.reconcile.VmFacts;
import org.ievirsh.reconcile.VmHistory;
import org.ievirsh.reconcile.VmPlan;
import org.ievirsh.reconcile.VmPlanner;
import org.ievirsh.template.DomainIdentity;
import org.ievirsh.template.DomainRenderer;
import org.ievirsh.template.RenderedDomain;
import org.ievirsh.template.Template;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** HotPaths are JMH microbenchmarks of the pure paths every reconcile runs: parse, render, plan. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class HotPaths {
    private static final String FILE = "# my web server\napiVersion: ie-virsh/v1\nkind: VirtualMachine\n"
            + "metadata:\n  name: web\nspec:\n  template: standard\n  image: web.qcow2\n  runStrategy: Always\n"
            + "  vcpus: 2\n  memory: 2GiB\n  description: my web server\n";
    private static final String TEMPLATE = "<domain type='kvm'><memory unit='GiB'>2</memory><vcpu>2</vcpu>"
            + "<os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os><features><acpi/><apic/></features>"
            + "<devices><disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='none'/>"
            + "<target dev='vda' bus='virtio'/></disk><interface type='bridge'><source bridge='br0'/>"
            + "<model type='virtio'/></interface><serial type='pty'/><console type='pty'/></devices></domain>";

    private byte[] file;
    private Template template;
    private DomainRenderer.Input input;
    private VmFacts facts;
    private VmFacts clean;

    @Setup
    public void setUp() throws Exception {
        file = FILE.getBytes(StandardCharsets.UTF_8);
        template = Template.parse("standard", TEMPLATE.getBytes(StandardCharsets.UTF_8));
        input = new DomainRenderer.Input(template, "alice", 1001, new DomainRenderer.RunAs(1001, 1001), "web", new DomainIdentity("alice-web",
                DomainIdentity.uuidFor("alice", 1001, "web"), List.of("52:54:00:00:00:01")), 2, 2L << 30,
                "/srv/ie-virsh/images/alice/web.qcow2", "sha256:x", Optional.of("my web server"));
        RenderedDomain rendered = DomainRenderer.render(input);
        VirtualMachineFile parsed = VirtualMachineFile.parse("web.yaml", file).orThrow();
        ObservedDomain domain = new ObservedDomain("blade01", rendered.uuid(), "alice-web", DomainState.RUNNING,
                StopReason.UNKNOWN, rendered.metadata(), Optional.of(rendered.renderHash()), false);
        facts = facts(parsed, rendered, domain);
        clean = facts(parsed, rendered, domain);  // equal, each part its own object, as a new pass makes them
    }

    /** One converged, running VM's facts, made afresh. */
    private static VmFacts facts(VirtualMachineFile parsed, RenderedDomain rendered, ObservedDomain domain) {
        return new VmFacts("web", new VmStatus.Owner("alice", 1001),
                new VmFacts.Asked(new Desired.Valid(parsed.vm(), parsed.specHash(), "standard", 2, 2L << 30),
                        VmFacts.Lifetime.FOREVER, Duration.ofSeconds(60)),
                new VmFacts.Seen(new Observation.Found(domain, true), VmHistory.NEW.observe(domain, Instant.EPOCH),
                        List.of(), true, Optional.empty()),
                new VmFacts.Allowed(new Admission.Verdict(true, true, ""),
                        ImageVerdict.accept(rendered.imagePath(), "1:2", "v1"), null, null,
                        org.ievirsh.reconcile.DiskFacts.STANDALONE, Optional.empty(), Duration.ZERO),
                new VmFacts.Target("alice-web", rendered, Optional.empty(), VmFacts.Blades.ALL_UP,
                        VmFacts.Placement.on("blade01"), VmFacts.Move.NONE), Instant.EPOCH);
    }

    /** Reading and checking one VM file: YAML with positions, then the JSON Schema. */
    @Benchmark
    public Object parseAndValidateSpec() {
        return VirtualMachineFile.parse("web.yaml", file);
    }

    /** What every pass pays for a VM: its rendering key and metadata, the XML text left unmade. */
    @Benchmark
    public RenderedDomain renderDomainKey() {
        return DomainRenderer.render(input);
    }

    /** What a define pays: the domain XML text, made from the template through the DOM. */
    @Benchmark
    public String renderDomainXml() {
        return DomainRenderer.render(input).xml();
    }

    /** Planning one converged, running VM. */
    @Benchmark
    public VmPlan planVm() {
        return VmPlanner.plan(facts);
    }

    /** What a resync does for each quiet VM: its facts, seen at the epoch, compared with the last clean pass's. */
    @Benchmark
    public boolean compareFacts() {
        return facts.at(Instant.EPOCH).equals(clean);
    }
}
