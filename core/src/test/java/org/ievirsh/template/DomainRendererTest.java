package org.ievirsh.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.ievirsh.support.Repo;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

class DomainRendererTest {
    private static final String HOSTILE = "</iev:description></metadata><evil/>&amp; ' \" ]]> <!-- x";

    private static Template standard() throws Exception {
        return Template.parse("standard", Files.readAllBytes(Repo.path("templates/standard.xml")));
    }

    private static RenderedDomain render(Template template, int vcpus, long memory, Optional<String> description) {
        DomainIdentity identity = new DomainIdentity("alice-web", DomainIdentity.uuidFor("alice", 1001, "web"),
                DomainIdentity.macsFor("alice", 1001, "web", template.nics(), mac -> false));
        return DomainRenderer.render(new DomainRenderer.Input(template, "alice", 1001, new DomainRenderer.RunAs(1001, 1001), "web", identity, vcpus, memory,
                "/srv/ie-virsh/images/alice/web.qcow2", "sha256:abc", description));
    }

    private static Document parse(String xml) throws Exception {
        return SafeXml.parse(xml.getBytes(StandardCharsets.UTF_8));
    }

    private static Element only(Document doc, String tag) {
        NodeList list = doc.getElementsByTagName(tag);
        assertEquals(1, list.getLength(), "exactly one <" + tag + ">");
        return (Element) list.item(0);
    }

    @Test
    void theShippedTemplatesAreValid() throws Exception {
        Template standard = standard();
        assertEquals(2, standard.vcpus());
        assertEquals(2L << 30, standard.memoryBytes());
        assertEquals("qcow2", standard.diskFormat());
        assertEquals(1, standard.nics());
        Template small = Template.parse("small", Files.readAllBytes(Repo.path("templates/small.xml")));
        assertEquals(1, small.vcpus());
        assertEquals(512L << 20, small.memoryBytes());
    }

    @Test
    void twoRenderingsHaveTheSameTextExactlyWhenTheyAreOfTheSameInputs() throws Exception {
        Template standard = standard();
        RenderedDomain one = render(standard, 1, 1L << 30, Optional.of("my web server"));
        RenderedDomain again = render(standard, 1, 1L << 30, Optional.of("my web server"));
        assertTrue(one.sameTextAs(again));
        assertEquals(one.xml(), again.xml());
        for (RenderedDomain other : List.of(render(standard, 2, 1L << 30, Optional.of("my web server")),
                render(standard, 1, 2L << 30, Optional.of("my web server")),
                render(standard, 1, 1L << 30, Optional.of("their web server")),
                render(standard, 1, 1L << 30, Optional.empty()))) {
            assertFalse(one.sameTextAs(other));
            assertNotEquals(one.xml(), other.xml());
        }
        assertFalse(one.sameTextAs(null));
    }

    @Test
    void renderingSetsOnlyWhatTheControllerOwns() throws Exception {
        RenderedDomain rendered = render(standard(), 1, 1L << 30, Optional.of("my web server"));
        Document doc = parse(rendered.xml());
        assertEquals("alice-web", only(doc, "name").getTextContent());
        assertEquals("c4088cba-9a48-87ca-9079-40d2bd0a5ec1", only(doc, "uuid").getTextContent(),
                "the UUID v1 gave alice (1001)'s web: it never changes");
        assertEquals("1", only(doc, "vcpu").getTextContent());
        assertEquals(Long.toString((1L << 30) / 1024), only(doc, "memory").getTextContent());
        assertEquals("KiB", only(doc, "memory").getAttribute("unit"));
        assertEquals(only(doc, "memory").getTextContent(), only(doc, "currentMemory").getTextContent());
        Element disk = only(doc, "disk");
        assertEquals("/srv/ie-virsh/images/alice/web.qcow2",
                ((Element) disk.getElementsByTagName("source").item(0)).getAttribute("file"));
        assertEquals("qcow2", ((Element) disk.getElementsByTagName("driver").item(0)).getAttribute("type"));
        Element backing = (Element) disk.getElementsByTagName("backingStore").item(0);
        assertEquals(0, backing.getChildNodes().getLength(), "an empty backingStore");
        String mac = ((Element) only(doc, "interface").getElementsByTagName("mac").item(0)).getAttribute("address");
        assertEquals("52:54:00:9d:bc:c3", mac, "the MAC v1 gave it: the DHCP reservation stays valid");
        assertEquals("br0", ((Element) only(doc, "interface").getElementsByTagName("source").item(0))
                .getAttribute("bridge"), "the admin's network stays");
        assertEquals("destroy", only(doc, "on_crash").getTextContent(), "the admin's settings stay");
    }

    @Test
    void identitiesAreStableAndOnePerNicAvoidingTakenMacs() {
        assertEquals(List.of("52:54:00:9d:bc:c3", "52:54:00:88:68:cb"),
                DomainIdentity.macsFor("alice", 1001, "web", 2, mac -> false));
        List<String> avoiding = DomainIdentity.macsFor("alice", 1001, "web", 2, "52:54:00:9d:bc:c3"::equals);
        assertEquals(2, avoiding.size());
        assertFalse(avoiding.contains("52:54:00:9d:bc:c3"), avoiding.toString());
        assertNotEquals(DomainIdentity.uuidFor("alice", 1001, "web"), DomainIdentity.uuidFor("alice", 1002, "web"),
                "a new account with an old name gets new identities");
    }

    @Test
    void studentTextEndsUpAsEscapedTextOnly() throws Exception {
        RenderedDomain rendered = render(standard(), 2, 2L << 30, Optional.of(HOSTILE));
        Document doc = parse(rendered.xml());
        assertEquals(0, doc.getElementsByTagName("evil").getLength());
        Element metadata = only(doc, "metadata");
        NodeList ours = metadata.getElementsByTagNameNS(DomainMetadata.NAMESPACE, "vm");
        assertEquals(1, ours.getLength());
        Element vm = (Element) ours.item(0);
        assertEquals("alice", vm.getAttribute("user"));
        assertEquals("1001", vm.getAttribute("uid"));
        assertEquals("web", vm.getAttribute("name"));
        assertEquals(HOSTILE, vm.getElementsByTagNameNS(DomainMetadata.NAMESPACE, "description").item(0)
                .getTextContent());
        DomainMetadata back = DomainMetadata.parse(SafeXml.write(vm)).orElseThrow();
        assertEquals(Optional.of(HOSTILE), back.description());
        assertEquals(rendered.renderHash(), back.renderHash());
    }

    @Test
    void theRenderHashChangesWithWhatTheGuestSeesButNotWithTheDescription() throws Exception {
        Template template = standard();
        String base = render(template, 2, 2L << 30, Optional.empty()).renderHash();
        assertEquals(base, render(template, 2, 2L << 30, Optional.of("new words")).renderHash());
        assertNotEquals(base, render(template, 1, 2L << 30, Optional.empty()).renderHash());
        assertNotEquals(base, render(template, 2, 1L << 30, Optional.empty()).renderHash());
    }

    @Test
    void aVmWithoutABaseHashesAsBeforeBaseImagesSoAnUpgradeRestartsNothing() throws Exception {
        // The hash as it was computed before base images: a new one would redefine every domain, and every
        // running VM would say RestartRequired after the upgrade.
        Template template = standard();
        RenderedDomain now = render(template, 2, 2L << 30, Optional.empty());
        DomainIdentity identity = new DomainIdentity("alice-web", DomainIdentity.uuidFor("alice", 1001, "web"),
                DomainIdentity.macsFor("alice", 1001, "web", template.nics(), mac -> false));
        String before = Template.sha256(String.join("\0", "2", template.hash(), "alice", "1001", "web", "1001", "1001",
                "alice-web", identity.uuid(), String.join(",", identity.macs()), "2", Long.toString(2L << 30),
                "/srv/ie-virsh/images/alice/web.qcow2").getBytes(StandardCharsets.UTF_8));
        assertEquals(before, now.renderHash());
        RenderedDomain onBase = DomainRenderer.render(new DomainRenderer.Input(template, "alice", 1001,
                new DomainRenderer.RunAs(1001, 1001), "web", identity, 2, 2L << 30,
                "/srv/ie-virsh/images/alice/web.qcow2", "sha256:abc", Optional.empty(), new DomainRenderer.Disks(
                Optional.of("/srv/base/debian-12.qcow2"), Optional.of("debian-12@1:2:3:4"), Optional.empty())));
        assertNotEquals(before, onBase.renderHash(), "a disk on a base is another disk");
    }

    @Test
    void hostileOrBrokenTemplatesAreRefused() {
        String xxe = "<?xml version='1.0'?><!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/shadow'>]>"
                + "<domain type='kvm'><vcpu>1</vcpu><memory>1048576</memory><devices>&x;</devices></domain>";
        assertThrows(Template.InvalidTemplateException.class, () -> Template.parse("x", xxe.getBytes()));
        String twoDisks = "<domain type='kvm'><vcpu>1</vcpu><memory>1048576</memory><devices>"
                + "<disk type='file' device='disk'><target dev='vda'/></disk>"
                + "<disk type='file' device='disk'><target dev='vdb'/></disk></devices></domain>";
        assertTrue(assertThrows(Template.InvalidTemplateException.class, () -> Template.parse("x", twoDisks.getBytes()))
                .getMessage().contains("exactly one <disk"));
        String network = "<domain type='kvm'><vcpu>1</vcpu><memory>1048576</memory><devices>"
                + "<disk type='network' device='disk'><target dev='vda'/></disk></devices></domain>";
        assertThrows(Template.InvalidTemplateException.class, () -> Template.parse("x", network.getBytes()));
        String vmdk = "<domain type='kvm'><vcpu>1</vcpu><memory>1048576</memory><devices>"
                + "<disk type='file' device='disk'><driver type='vmdk'/><target dev='vda'/></disk></devices></domain>";
        assertTrue(assertThrows(Template.InvalidTemplateException.class, () -> Template.parse("x", vmdk.getBytes()))
                .getMessage().contains("qcow2 or raw"));
    }

    @Test
    void macsAreStableAndSkipAddressesInUse() {
        List<String> first = DomainIdentity.macsFor("alice", 1001, "web", 2, mac -> false);
        assertEquals(first, DomainIdentity.macsFor("alice", 1001, "web", 2, mac -> false));
        assertEquals(2, Set.copyOf(first).size());
        List<String> avoiding = DomainIdentity.macsFor("alice", 1001, "web", 2, first.get(0)::equals);
        assertNotEquals(first.get(0), avoiding.get(0));
        assertEquals(first.get(1), avoiding.get(1));
        assertNotEquals(DomainIdentity.uuidFor("alice", 1001, "web"), DomainIdentity.uuidFor("alice", 1001, "db"));
        assertNotEquals(DomainIdentity.uuidFor("a-b", 1, "c"), DomainIdentity.uuidFor("a", 1, "b-c"));
    }
}
