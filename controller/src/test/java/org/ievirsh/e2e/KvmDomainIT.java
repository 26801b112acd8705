package org.ievirsh.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.ievirsh.template.DomainIdentity;
import org.ievirsh.template.DomainRenderer;
import org.ievirsh.template.RenderedDomain;
import org.ievirsh.template.Template;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/** KvmDomainIT checks that a rendered template is a domain the real libvirtd defines and KVM runs. */
@EnabledIfSystemProperty(named = "ievirsh.e2e", matches = "true")
class KvmDomainIT {
    @TempDir
    Path tmp;

    @AfterEach
    void cleanUp() {
        Host.removeDomains("ievkvm-");
    }

    @Test
    void aRenderedDomainStartsOnKvmAndIsRemoved() throws Exception {
        Path templates = Host.templates(tmp.resolve("templates"));
        Template template = Template.parse("standard", Files.readAllBytes(templates.resolve("standard.xml")));
        Path image = Host.image(tmp.resolve("images"), "root", "disk.qcow2");
        RenderedDomain rendered = DomainRenderer.render(new DomainRenderer.Input(template, "ievkvm", 0, new DomainRenderer.RunAs(0, 0), "probe",
                new DomainIdentity("ievkvm-probe", DomainIdentity.uuidFor("ievkvm", 0, "probe"),
                        DomainIdentity.macsFor("ievkvm", 0, "probe", template.nics(), m -> false)),
                1, 256L << 20, image.toString(), "sha256:0", Optional.of("<b>escaped</b>")));
        Path xml = Files.writeString(tmp.resolve("domain.xml"), rendered.xml());
        Host.virsh("define", xml.toString());
        Host.virsh("start", "ievkvm-probe");
        assertEquals("running", Host.state("ievkvm-probe"));
        String live = Host.virsh("dumpxml", "ievkvm-probe");
        assertTrue(live.contains("type='" + Host.domainType() + "'"), live);
        assertTrue(live.contains("<backingStore/>"), live);
        assertTrue(live.contains("&lt;b&gt;escaped&lt;/b&gt;"), live);
        Host.virsh("destroy", "ievkvm-probe");
        Host.virsh("undefine", "ievkvm-probe");
        assertEquals("absent", Host.state("ievkvm-probe"));
    }

    @Test
    void aDiskMadeFromABaseWithItsSeedStartsOnKvmAndTheBaseIsNeverWritten() throws Exception {
        Path templates = Host.templates(tmp.resolve("templates"));
        Template template = Template.parse("standard", Files.readAllBytes(templates.resolve("standard.xml")));
        Path bases = org.ievirsh.support.Bases.directory();
        try {
            Path base = org.ievirsh.support.Bases.base(bases, "probe-base", "64M", null);
            String before = org.ievirsh.support.Commands.ok("sha256sum", base.toString());
            Path images = Files.createDirectories(tmp.resolve("images"));
            org.ievirsh.image.StudentDisks.overlay(0, 0, images, "disk.qcow2", base, java.util.OptionalLong.of(1L << 30));
            org.ievirsh.image.StudentDisks.seed(0, 0, images, "probe", org.ievirsh.image.StudentDisks.metaData(
                    DomainIdentity.uuidFor("ievkvm", 0, "probe"), "probe", java.util.List.of()), "#cloud-config\n", "x");
            Path seed = images.resolve(".seed/probe.iso");
            RenderedDomain rendered = DomainRenderer.render(new DomainRenderer.Input(template, "ievkvm", 0,
                    new DomainRenderer.RunAs(0, 0), "probe", new DomainIdentity("ievkvm-probe",
                    DomainIdentity.uuidFor("ievkvm", 0, "probe"), DomainIdentity.macsFor("ievkvm", 0, "probe",
                    template.nics(), m -> false)), 1, 256L << 20, images.resolve("disk.qcow2").toString(), "sha256:0",
                    Optional.empty(), new DomainRenderer.Disks(Optional.of(base.toString()), Optional.of("v1"),
                    Optional.of(seed.toString()))));
            Path xml = Files.writeString(tmp.resolve("domain.xml"), rendered.xml());
            Host.virsh("define", xml.toString());
            Host.virsh("start", "ievkvm-probe");
            assertEquals("running", Host.state("ievkvm-probe"));
            String live = Host.virsh("dumpxml", "ievkvm-probe");
            assertTrue(live.contains("<source file='" + base + "'"), "the chain names the base: " + live);
            assertTrue(live.contains("<source file='" + seed + "'") && live.contains("device='cdrom'"), live);
            Host.virsh("destroy", "ievkvm-probe");
            Host.virsh("undefine", "ievkvm-probe");
            assertEquals(before, org.ievirsh.support.Commands.ok("sha256sum", base.toString()));
        } finally {
            org.ievirsh.support.Commands.run(java.util.List.of("rm", "-rf", bases.toString()));
        }
    }
}
