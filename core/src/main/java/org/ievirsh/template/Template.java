package org.ievirsh.template;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.ievirsh.api.v1.VirtualMachineFile;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * Template is an admin's domain XML, checked: one file disk for the VM's
 * image (qcow2 unless the driver says raw), a {@code <vcpu>} and a
 * {@code <memory>} that are both the defaults and the maxima of its VMs.
 * Everything else in it is the admin's and is kept as written.
 */
public final class Template {
    private final String name;
    private final Document document;
    private final int vcpus;
    private final long memoryBytes;
    private final String diskFormat;
    private final int nics;
    private final String cdromBus;
    private final String hash;
    private final boolean guestAgent;

    private Template(String name, Document document, int vcpus, long memoryBytes, String diskFormat, int nics,
                     String hash, boolean guestAgent, String cdromBus) {
        this.guestAgent = guestAgent;
        this.cdromBus = cdromBus;
        this.name = name;
        this.document = document;
        this.vcpus = vcpus;
        this.memoryBytes = memoryBytes;
        this.diskFormat = diskFormat;
        this.nics = nics;
        this.hash = hash;
    }

    /** Parses and checks the template {@code name} from its bytes; the message says what is wrong. */
    public static Template parse(String name, byte[] bytes) throws InvalidTemplateException {
        Document document;
        try {
            document = SafeXml.parse(bytes);
        } catch (IOException e) {
            throw new InvalidTemplateException(name + ".xml is not well-formed XML: " + e.getMessage());
        }
        Element root = document.getDocumentElement();
        if (!"domain".equals(root.getTagName()) || root.getAttribute("type").isEmpty()) {
            throw new InvalidTemplateException(name + ".xml: the root must be <domain type='kvm'> (or qemu)");
        }
        if (root.getElementsByTagName("seclabel").getLength() > 0) {
            throw new InvalidTemplateException(name + ".xml: it sets a <seclabel>; remove it: the controller runs"
                    + " every VM's QEMU as the VM's owner (a static DAC label, relabel='no'), and no template may"
                    + " change that");
        }
        Element vcpu = only(root, "vcpu", name);
        int vcpus;
        try {
            vcpus = Integer.parseInt(vcpu.getTextContent().trim());
        } catch (NumberFormatException e) {
            throw new InvalidTemplateException(name + ".xml: <vcpu> must hold a whole number");
        }
        Element memory = only(root, "memory", name);
        long memoryBytes = bytesOf(memory, name);
        if (vcpus < 1 || memoryBytes < (1 << 20)) {
            throw new InvalidTemplateException(name + ".xml: <vcpu> must be at least 1 and <memory> at least 1MiB");
        }
        List<Element> disks = new ArrayList<>();
        Element devices = only(root, "devices", name);
        for (Element disk : children(devices, "disk")) {
            if ("disk".equals(disk.getAttribute("device")) || disk.getAttribute("device").isEmpty()) {
                disks.add(disk);
            }
        }
        if (disks.size() != 1 || !"file".equals(disks.get(0).getAttribute("type"))) {
            throw new InvalidTemplateException(name + ".xml: it needs exactly one <disk type='file' device='disk'>,"
                    + " the VM's image");
        }
        Element driver = first(disks.get(0), "driver");
        String format = driver == null || driver.getAttribute("type").isEmpty() ? "qcow2" : driver.getAttribute("type");
        if (!format.equals("qcow2") && !format.equals("raw")) {
            throw new InvalidTemplateException(name + ".xml: the disk format must be qcow2 or raw, not " + format);
        }
        if (first(disks.get(0), "target") == null) {
            throw new InvalidTemplateException(name + ".xml: the disk needs a <target dev='vda' bus='virtio'/>");
        }
        int nics = children(devices, "interface").size();
        boolean agent = false;
        for (Element channel : children(devices, "channel")) {
            Element target = first(channel, "target");
            agent |= target != null && AGENT_CHANNEL.equals(target.getAttribute("name"));
        }
        Element os = first(root, "os");
        Element type = os == null ? null : first(os, "type");
        String machine = type == null ? "" : type.getAttribute("machine");
        String cdromBus = machine.contains("q35") ? "sata" : "ide";
        return new Template(name, document, vcpus, memoryBytes, format, nics, sha256(bytes), agent, cdromBus);
    }

    public String name() {
        return name;
    }

    /** AGENT_CHANNEL is the virtio port QEMU's guest agent talks on. */
    public static final String AGENT_CHANNEL = "org.qemu.guest_agent.0";

    /** True when its VMs have the guest agent's channel (the controller may ask the agent for addresses). */
    public boolean guestAgent() {
        return guestAgent;
    }

    /** The template's {@code <vcpu>}: default and maximum of its VMs. */
    public int vcpus() {
        return vcpus;
    }

    /** The template's {@code <memory>} in bytes: default and maximum of its VMs. */
    public long memoryBytes() {
        return memoryBytes;
    }

    /** qcow2 or raw: the format its VMs' images must have. */
    public String diskFormat() {
        return diskFormat;
    }

    /**
     * The bus a CD-ROM takes on its machine type: {@code ide} on i440fx
     * ({@code pc}, and libvirt's default), {@code sata} on q35.
     */
    public String cdromBus() {
        return cdromBus;
    }

    /** How many network interfaces its VMs have (each gets a MAC). */
    public int nics() {
        return nics;
    }

    /** SHA-256 of the template file, so that a changed template redefines its VMs. */
    public String hash() {
        return hash;
    }

    /** A private copy of the document to render into; DOM reads are not thread-safe. */
    synchronized Document copy() {
        return (Document) document.cloneNode(true);
    }

    static List<Element> children(Element parent, String tag) {
        List<Element> found = new ArrayList<>();
        NodeList nodes = parent.getChildNodes();
        for (int i = 0; i < nodes.getLength(); i++) {
            Node node = nodes.item(i);
            if (node instanceof Element element && tag.equals(element.getTagName())) {
                found.add(element);
            }
        }
        return found;
    }

    static Element first(Element parent, String tag) {
        List<Element> found = children(parent, tag);
        return found.isEmpty() ? null : found.get(0);
    }

    private static Element only(Element parent, String tag, String name) throws InvalidTemplateException {
        List<Element> found = children(parent, tag);
        if (found.size() != 1) {
            throw new InvalidTemplateException(name + ".xml: it needs exactly one <" + tag + ">");
        }
        return found.get(0);
    }

    /** Bytes of a libvirt memory element, with its unit attribute (KiB when absent). */
    static long bytesOf(Element memory, String name) throws InvalidTemplateException {
        long value;
        try {
            value = Long.parseLong(memory.getTextContent().trim());
        } catch (NumberFormatException e) {
            throw new InvalidTemplateException(name + ".xml: <memory> must hold a whole number");
        }
        String unit = memory.getAttribute("unit").toLowerCase(Locale.ROOT);
        long factor;
        switch (unit) {
            case "b": case "bytes": factor = 1; break;
            case "": case "k": case "kib": factor = 1L << 10; break;
            case "kb": factor = 1000; break;
            case "m": case "mib": factor = 1L << 20; break;
            case "mb": factor = 1000_000; break;
            case "g": case "gib": factor = 1L << 30; break;
            case "gb": factor = 1000_000_000; break;
            case "t": case "tib": factor = 1L << 40; break;
            case "tb": factor = 1000_000_000_000L; break;
            default: throw new InvalidTemplateException(name + ".xml: unknown memory unit " + unit);
        }
        return Math.multiplyExact(value, factor);
    }

    static String sha256(byte[] bytes) {
        return VirtualMachineFile.hash(bytes);
    }

    /** InvalidTemplateException says what is wrong with an admin's template. */
    public static final class InvalidTemplateException extends Exception {
        private static final long serialVersionUID = 1L;

        public InvalidTemplateException(String message) {
            super(message);
        }
    }
}
