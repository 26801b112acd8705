package org.ievirsh.template;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * DomainMetadata is the project's element in a domain's {@code <metadata>}:
 * whose VM the domain is, and which spec and rendering it was defined from.
 * The controller acts only on domains that carry it.
 */
public record DomainMetadata(int uid, String user, String vm, String specHash, String renderHash,
                             List<String> macs, int vcpus, long memoryBytes, Optional<String> description,
                             Optional<String> base) {

    /**
     * Metadata of a VM whose disk is no overlay.
     *
     * @param base for a VM whose disk is an overlay of an admin's base: {@code <name>@<version>}, the base as it
     *             was when the domain was defined (a base that changed since is not the one the overlay was
     *             made on)
     */
    public DomainMetadata(int uid, String user, String vm, String specHash, String renderHash, List<String> macs,
                          int vcpus, long memoryBytes, Optional<String> description) {
        this(uid, user, vm, specHash, renderHash, macs, vcpus, memoryBytes, description, Optional.empty());
    }
    /** NAMESPACE is the project's own XML namespace. */
    public static final String NAMESPACE = "urn:ie-virsh:domain:v1";
    /** PREFIX is the prefix the element is written with. */
    public static final String PREFIX = "iev";
    static final String ELEMENT = "vm";

    /** Builds the element in {@code document} (the description as escaped text, if any). */
    Element toElement(Document document) {
        Element element = document.createElementNS(NAMESPACE, PREFIX + ":" + ELEMENT);
        element.setAttribute("uid", Integer.toString(uid));
        element.setAttribute("user", user);
        element.setAttribute("name", vm);
        element.setAttribute("specHash", specHash);
        element.setAttribute("renderHash", renderHash);
        element.setAttribute("macs", String.join(",", macs));
        element.setAttribute("vcpus", Integer.toString(vcpus));
        element.setAttribute("memory", Long.toString(memoryBytes));
        base.ifPresent(b -> element.setAttribute("base", b));
        description.ifPresent(text -> {
            Element child = document.createElementNS(NAMESPACE, PREFIX + ":description");
            child.setTextContent(text);
            element.appendChild(child);
        });
        return element;
    }

    /**
     * Reads the element as libvirt returns it from {@code virDomainGetMetadata};
     * empty when it is not a complete element of ours.
     */
    public static Optional<DomainMetadata> parse(String xml) {
        try {
            Element root = SafeXml.parse(xml.getBytes(StandardCharsets.UTF_8)).getDocumentElement();
            if (!ELEMENT.equals(root.getLocalName() != null ? root.getLocalName() : root.getTagName())) {
                return Optional.empty();
            }
            String user = root.getAttribute("user");
            String vm = root.getAttribute("name");
            if (user.isEmpty() || vm.isEmpty()) {
                return Optional.empty();
            }
            String macs = root.getAttribute("macs");
            Optional<String> description = Optional.empty();
            for (Node child = root.getFirstChild(); child != null; child = child.getNextSibling()) {
                if (child instanceof Element element && "description".equals(element.getLocalName())) {
                    description = Optional.of(element.getTextContent());
                }
            }
            return Optional.of(new DomainMetadata(Integer.parseInt(root.getAttribute("uid")), user, vm,
                    root.getAttribute("specHash"), root.getAttribute("renderHash"),
                    macs.isEmpty() ? List.of() : List.of(macs.split(",")), intOr(root.getAttribute("vcpus")),
                    longOr(root.getAttribute("memory")), description, root.getAttribute("base").isEmpty()
                    ? Optional.empty() : Optional.of(root.getAttribute("base"))));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static int intOr(String text) {
        return text.isEmpty() ? 0 : Integer.parseInt(text);
    }

    private static long longOr(String text) {
        return text.isEmpty() ? 0 : Long.parseLong(text);
    }
}
