package org.ievirsh.template;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Attr;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NamedNodeMap;
import org.w3c.dom.Node;
import org.xml.sax.SAXException;

/**
 * SafeXml parses XML with DOCTYPEs, external entities and XInclude refused,
 * and writes a DOM back as text. Text that students wrote only ever enters
 * a document through the DOM, so it is escaped by construction.
 */
public final class SafeXml {
    private static final DocumentBuilderFactory FACTORY = factory();

    private SafeXml() {
    }

    private static DocumentBuilderFactory factory() {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setNamespaceAware(true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setFeature("http://xml.org/sax/features/external-general-entities", false);
            f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
            f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
            f.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
            f.setXIncludeAware(false);
            f.setExpandEntityReferences(false);
            return f;
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Parses {@code bytes}; a DOCTYPE or an external entity is an error. */
    public static Document parse(byte[] bytes) throws IOException {
        try {
            DocumentBuilder builder;
            synchronized (FACTORY) {
                builder = FACTORY.newDocumentBuilder();
            }
            builder.setErrorHandler(null);
            return builder.parse(new ByteArrayInputStream(bytes));
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException(e);
        } catch (SAXException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** An empty document to build on. */
    public static Document newDocument() {
        try {
            synchronized (FACTORY) {
                return FACTORY.newDocumentBuilder().newDocument();
            }
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Text of {@code node}, without an XML declaration: the DOM walked once,
     * every text and attribute value escaped, and each namespace declared
     * where an element or attribute uses one that is not in scope (the JDK's
     * serializer did the same through a transformer, at several times the
     * cost: it was a third of the controller's own work in a rush of new VMs).
     */
    public static String write(Node node) {
        StringBuilder out = new StringBuilder(2048);
        write(node, out, null);
        return out.toString();
    }

    /** Scope is the namespace bindings in force: a prefix ("" for the default) and its URI, then the outer ones. */
    private record Scope(String prefix, String uri, Scope outer) {
        static String lookup(Scope scope, String prefix) {
            for (Scope s = scope; s != null; s = s.outer) {
                if (s.prefix.equals(prefix)) {
                    return s.uri;
                }
            }
            return prefix.isEmpty() ? "" : null;
        }
    }

    private static void write(Node node, StringBuilder out, Scope scope) {
        switch (node.getNodeType()) {
            case Node.DOCUMENT_NODE:
                // Each top-level node (an admin's comment, the root element) on a line of its own.
                for (Node child = node.getFirstChild(); child != null; child = child.getNextSibling()) {
                    write(child, out, scope);
                    out.append('\n');
                }
                break;
            case Node.DOCUMENT_FRAGMENT_NODE:
                for (Node child = node.getFirstChild(); child != null; child = child.getNextSibling()) {
                    write(child, out, scope);
                }
                break;
            case Node.ELEMENT_NODE:
                writeElement((Element) node, out, scope);
                break;
            case Node.TEXT_NODE:
                escape(node.getNodeValue(), out, false);
                break;
            case Node.CDATA_SECTION_NODE:
                // "]]>" cannot stand inside a section: it is split across two.
                out.append("<![CDATA[").append(node.getNodeValue().replace("]]>", "]]]]><![CDATA[>")).append("]]>");
                break;
            case Node.COMMENT_NODE:
                out.append("<!--").append(node.getNodeValue()).append("-->");
                break;
            case Node.PROCESSING_INSTRUCTION_NODE:
                out.append("<?").append(node.getNodeName()).append(' ').append(node.getNodeValue()).append("?>");
                break;
            case Node.ENTITY_REFERENCE_NODE:
                out.append('&').append(node.getNodeName()).append(';');
                break;
            default:
                break;  // a document type: parsing refuses them
        }
    }

    private static void writeElement(Element element, StringBuilder out, Scope outer) {
        Scope scope = outer;
        out.append('<').append(element.getNodeName());
        NamedNodeMap attributes = element.getAttributes();
        for (int i = 0; i < attributes.getLength(); i++) {
            Attr attribute = (Attr) attributes.item(i);
            if (XMLConstants.XMLNS_ATTRIBUTE_NS_URI.equals(attribute.getNamespaceURI())) {
                String prefix = XMLConstants.XMLNS_ATTRIBUTE.equals(attribute.getNodeName()) ? ""
                        : attribute.getLocalName();
                scope = new Scope(prefix, attribute.getValue(), scope);
            }
            writeAttribute(attribute.getNodeName(), attribute.getValue(), out);
        }
        scope = declare(element.getPrefix(), element.getNamespaceURI(), scope, out);
        for (int i = 0; i < attributes.getLength(); i++) {
            Attr attribute = (Attr) attributes.item(i);
            String uri = attribute.getNamespaceURI();
            if (attribute.getPrefix() != null && uri != null && !XMLConstants.XMLNS_ATTRIBUTE_NS_URI.equals(uri)
                    && !XMLConstants.XML_NS_URI.equals(uri)) {
                scope = declare(attribute.getPrefix(), uri, scope, out);
            }
        }
        Node child = element.getFirstChild();
        if (child == null) {
            out.append("/>");
            return;
        }
        out.append('>');
        for (; child != null; child = child.getNextSibling()) {
            write(child, out, scope);
        }
        out.append("</").append(element.getNodeName()).append('>');
    }

    /** Declares {@code prefix} as {@code uri} unless it already is in {@code scope}; the scope after. */
    private static Scope declare(String prefix, String uri, Scope scope, StringBuilder out) {
        String p = prefix == null ? "" : prefix;
        String u = uri == null ? "" : uri;
        if (u.equals(Scope.lookup(scope, p))) {
            return scope;
        }
        writeAttribute(p.isEmpty() ? XMLConstants.XMLNS_ATTRIBUTE : XMLConstants.XMLNS_ATTRIBUTE + ":" + p, u, out);
        return new Scope(p, u, scope);
    }

    private static void writeAttribute(String name, String value, StringBuilder out) {
        out.append(' ').append(name).append("=\"");
        escape(value, out, true);
        out.append('"');
    }

    /** Escapes markup characters, and in attributes the quote and the white space a parser would fold. */
    private static void escape(String text, StringBuilder out, boolean attribute) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&': out.append("&amp;"); break;
                case '<': out.append("&lt;"); break;
                case '>': out.append("&gt;"); break;
                case '"':
                    out.append(attribute ? "&quot;" : "\"");
                    break;
                case '\r': out.append("&#13;"); break;
                case '\n':
                case '\t':
                    if (attribute) {
                        out.append("&#").append((int) c).append(';');
                    } else {
                        out.append(c);
                    }
                    break;
                default:
                    if (c < 0x20) {
                        out.append("&#").append((int) c).append(';');
                    } else {
                        out.append(c);
                    }
                    break;
            }
        }
    }
}
