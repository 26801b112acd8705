package org.ievirsh.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.ievirsh.template.DomainIdentity;
import org.ievirsh.template.DomainRenderer;
import org.ievirsh.template.Template;

/** BenchTemplates are the domain templates the benchmarks define: small, with no network to set up. */
final class BenchTemplates {
    private BenchTemplates() {
    }

    /** A 1-vCPU, 128 MiB guest, KVM where /dev/kvm exists (else TCG), with no NIC. */
    static String kvmWithoutNetwork() {
        String type = Files.exists(Path.of("/dev/kvm")) ? "kvm" : "qemu";
        return "<domain type='" + type + "'>\n  <memory unit='MiB'>128</memory>\n  <vcpu>1</vcpu>\n"
                + "  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>\n"
                + "  <features><acpi/></features>\n  <devices>\n"
                + "    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                + "<target dev='vda' bus='virtio'/></disk>\n"
                + "    <serial type='pty'/>\n  </devices>\n</domain>\n";
    }

    /**
     * The test driver's guest with one NIC and the guest agent's channel:
     * the controller learns its address (the test driver's agent answers
     * one), as it would for the shipped templates.
     */
    static String testDriverWithNic() {
        return testDriver().replace("  </devices>", "    <interface type='ethernet'/>\n    <channel type='unix'>"
                + "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>\n  </devices>");
    }

    /**
     * The XML of domain {@code name} as a baseline defines it, rendered from
     * {@code template} as the controller would for a VM {@code vm} of
     * {@code owner} (uid 0), 1 vCPU, 128 MiB, disk {@code image}.
     */
    static String baselineXml(Template template, String owner, String name, String vm, String image) {
        DomainIdentity identity = new DomainIdentity(name, DomainIdentity.uuidFor(owner, 0, name),
                DomainIdentity.macsFor(owner, 0, name, template.nics(), m -> false));
        return DomainRenderer.render(new DomainRenderer.Input(template, owner, 0, new DomainRenderer.RunAs(0, 0), vm,
                identity, 1, 128L << 20, image, "sha256:0", Optional.empty())).xml();
    }

    /** The same for libvirt's test driver. */
    static String testDriver() {
        return "<domain type='test'>\n  <memory unit='MiB'>128</memory>\n  <vcpu>1</vcpu>\n"
                + "  <os><type arch='x86_64'>hvm</type></os>\n  <devices>\n"
                + "    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                + "<target dev='vda' bus='virtio'/></disk>\n  </devices>\n</domain>\n";
    }
}
