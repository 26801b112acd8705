package org.ievirsh.bench;

import java.nio.file.Files;
import java.nio.file.Path;

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

    /** The same for libvirt's test driver. */
    static String testDriver() {
        return "<domain type='test'>\n  <memory unit='MiB'>128</memory>\n  <vcpu>1</vcpu>\n"
                + "  <os><type arch='x86_64'>hvm</type></os>\n  <devices>\n"
                + "    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                + "<target dev='vda' bus='virtio'/></disk>\n  </devices>\n</domain>\n";
    }
}
