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
}
