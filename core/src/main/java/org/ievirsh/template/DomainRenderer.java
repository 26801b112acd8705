package org.ievirsh.template;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * DomainRenderer makes a VM's domain XML from its template. It sets only
 * what the README's configuration lets it set: name, UUID, the project's metadata, the
 * disk source (format named, and its backing chain named whole: none, or an
 * admin's base and nothing behind it, so that libvirt never probes a
 * format), vCPUs and memory, a MAC per NIC, and for a VM with a NoCloud seed,
 * a read-only CD-ROM with it. All of it goes through the DOM: whatever a
 * student wrote ends up as escaped text.
 */
public final class DomainRenderer {
    /**
     * VERSION changes when rendering changes, so that existing domains are
     * redefined (and running ones say RestartRequired). Base images did not
     * change it: a VM without a base or a seed renders, and hashes, as before.
     */
    static final String VERSION = "2";

    private DomainRenderer() {
    }

    /**
     * Input is what one rendering needs; vcpus and memory are already within the template's.
     *
     * @param runAs the uid and gid QEMU runs with: the owner of the student's files (the README's "QEMU runs as the student")
     */
    public record Input(Template template, String user, int uid, RunAs runAs, String vm, DomainIdentity identity,
                        int vcpus, long memoryBytes, String imagePath, String specHash, Optional<String> description,
                        Disks disks) {
        /** An input with a standalone image and no seed. */
        public Input(Template template, String user, int uid, RunAs runAs, String vm, DomainIdentity identity,
                     int vcpus, long memoryBytes, String imagePath, String specHash, Optional<String> description) {
            this(template, user, uid, runAs, vm, identity, vcpus, memoryBytes, imagePath, specHash, description,
                    Disks.STANDALONE);
        }
    }

    /**
     * Disks is what the VM's disks have beyond the image: the base image the
     * image is an overlay of (its absolute path, and its name and version
     * recorded in the metadata), and the NoCloud seed's ISO.
     */
    public record Disks(Optional<String> base, Optional<String> baseVersion, Optional<String> seed) {
        public static final Disks STANDALONE = new Disks(Optional.empty(), Optional.empty(), Optional.empty());
    }

    /** RunAs is the POSIX identity a domain's QEMU process gets. */
    public record RunAs(int uid, int gid) {
    }

    /** The rendering of {@code in}; its XML text is made when asked for. */
    public static RenderedDomain render(Input in) {
        String renderHash = renderHash(in);
        DomainMetadata metadata = new DomainMetadata(in.uid(), in.user(), in.vm(), in.specHash(), renderHash,
                in.identity().macs(), in.vcpus(), in.memoryBytes(), in.description(), in.disks().baseVersion());
        return new RenderedDomain(() -> xml(in, metadata), renderHash, metadata, in.identity().domainName(),
                in.identity().uuid(), in.vcpus(), in.memoryBytes(), in.imagePath(), in.template().diskFormat());
    }

    /** The domain XML text of {@code in}, built through the DOM. */
    static String xml(Input in, DomainMetadata metadata) {
        Document doc = in.template().copy();
        Element root = doc.getDocumentElement();

        Element name = replaceChild(root, "name", null);
        name.setTextContent(in.identity().domainName());
        Element uuid = replaceChild(root, "uuid", name);
        uuid.setTextContent(in.identity().uuid());

        Element metadataElement = Template.first(root, "metadata");
        if (metadataElement == null) {
            metadataElement = doc.createElement("metadata");
            root.insertBefore(metadataElement, uuid.getNextSibling());
        }
        for (Node child = metadataElement.getFirstChild(); child != null; ) {
            Node next = child.getNextSibling();
            if (DomainMetadata.NAMESPACE.equals(child.getNamespaceURI())) {
                metadataElement.removeChild(child);
            }
            child = next;
        }
        metadataElement.appendChild(metadata.toElement(doc));

        Element vcpu = Template.first(root, "vcpu");
        vcpu.removeAttribute("current");
        vcpu.setTextContent(Integer.toString(in.vcpus()));
        Element memory = Template.first(root, "memory");
        memory.setAttribute("unit", "KiB");
        memory.setTextContent(Long.toString(in.memoryBytes() / 1024));
        Element current = Template.first(root, "currentMemory");
        if (current != null) {
            current.setAttribute("unit", "KiB");
            current.setTextContent(Long.toString(in.memoryBytes() / 1024));
        }

        Element devices = Template.first(root, "devices");
        Element disk = Template.children(devices, "disk").stream()
                .filter(d -> "disk".equals(d.getAttribute("device")) || d.getAttribute("device").isEmpty())
                .findFirst().orElseThrow();
        Element driver = Template.first(disk, "driver");
        if (driver == null) {
            driver = doc.createElement("driver");
            disk.insertBefore(driver, disk.getFirstChild());
        }
        if (driver.getAttribute("name").isEmpty()) {
            driver.setAttribute("name", "qemu");
        }
        driver.setAttribute("type", in.template().diskFormat());
        Element oldSource = Template.first(disk, "source");
        Element source = doc.createElement("source");
        source.setAttribute("file", in.imagePath());
        if (oldSource != null) {
            disk.replaceChild(source, oldSource);
        } else {
            disk.insertBefore(source, driver.getNextSibling());
        }
        for (Element backing : Template.children(disk, "backingStore")) {
            disk.removeChild(backing);
        }
        // The chain named whole, ending in an empty <backingStore/>: libvirt and QEMU open what it says and no more.
        disk.insertBefore(backingStore(doc, in.disks().base()), source.getNextSibling());
        in.disks().seed().ifPresent(iso -> devices.appendChild(seed(doc, iso, in.template().cdromBus())));

        List<Element> nics = Template.children(devices, "interface");
        for (int i = 0; i < nics.size(); i++) {
            Element mac = Template.first(nics.get(i), "mac");
            if (mac == null) {
                mac = doc.createElement("mac");
                nics.get(i).insertBefore(mac, nics.get(i).getFirstChild());
            }
            mac.setAttribute("address", in.identity().macs().get(i));
        }
        root.appendChild(seclabel(doc, in.runAs()));
        return SafeXml.write(doc);
    }

    /** {@code <backingStore/>}, or the base's, with its format, and the empty one behind it. */
    private static Element backingStore(Document doc, Optional<String> base) {
        Element store = doc.createElement("backingStore");
        if (base.isPresent()) {
            store.setAttribute("type", "file");
            Element format = doc.createElement("format");
            format.setAttribute("type", "qcow2");
            store.appendChild(format);
            Element source = doc.createElement("source");
            source.setAttribute("file", base.get());
            store.appendChild(source);
            store.appendChild(doc.createElement("backingStore"));
        }
        return store;
    }

    /** The NoCloud seed as a read-only CD-ROM on the bus the machine type has ({@link Template#cdromBus}). */
    private static Element seed(Document doc, String iso, String bus) {
        Element disk = doc.createElement("disk");
        disk.setAttribute("type", "file");
        disk.setAttribute("device", "cdrom");
        Element driver = doc.createElement("driver");
        driver.setAttribute("name", "qemu");
        driver.setAttribute("type", "raw");
        disk.appendChild(driver);
        Element source = doc.createElement("source");
        source.setAttribute("file", iso);
        disk.appendChild(source);
        Element target = doc.createElement("target");
        target.setAttribute("dev", bus.equals("ide") ? "hdd" : "sdz");
        target.setAttribute("bus", bus);
        disk.appendChild(target);
        disk.appendChild(doc.createElement("readonly"));
        return disk;
    }

    /**
     * The domain's security label: QEMU runs as the student whose files it
     * opens, and libvirt changes the owner of no file (relabel='no'). A header
     * that names a host file, or a link swapped in before the start, then
     * reaches only what the student could open anyway. Templates may not set
     * their own (see {@link Template#parse}).
     */
    private static Element seclabel(Document doc, RunAs runAs) {
        Element seclabel = doc.createElement("seclabel");
        seclabel.setAttribute("type", "static");
        seclabel.setAttribute("model", "dac");
        seclabel.setAttribute("relabel", "no");
        Element label = doc.createElement("label");
        label.setTextContent("+" + runAs.uid() + ":+" + runAs.gid());
        seclabel.appendChild(label);
        return seclabel;
    }

    /**
     * Hash of what the guest sees of a rendering: template, identity, vCPUs,
     * memory, disk. The spec hash and description are left out: editing a
     * comment or the description must not make a running VM need a restart.
     */
    public static String renderHash(Input in) {
        String all = String.join("\0", VERSION, in.template().hash(), in.user(), Integer.toString(in.uid()), in.vm(),
                Integer.toString(in.runAs().uid()), Integer.toString(in.runAs().gid()),
                in.identity().domainName(), in.identity().uuid(), String.join(",", in.identity().macs()),
                Integer.toString(in.vcpus()), Long.toString(in.memoryBytes()), in.imagePath());
        if (!in.disks().equals(Disks.STANDALONE)) {
            all += "\0" + in.disks().base().orElse("") + "\0" + in.disks().seed().orElse("");
        }
        return Template.sha256(all.getBytes(StandardCharsets.UTF_8));
    }

    /** Replaces (or creates) the child {@code tag} of root, placed after {@code after} (first when null). */
    private static Element replaceChild(Element root, String tag, Element after) {
        for (Element old : Template.children(root, tag)) {
            root.removeChild(old);
        }
        Element element = root.getOwnerDocument().createElement(tag);
        Node before = after == null ? root.getFirstChild() : after.getNextSibling();
        root.insertBefore(element, before);
        return element;
    }
}
