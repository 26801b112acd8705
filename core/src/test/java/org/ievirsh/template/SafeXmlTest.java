package org.ievirsh.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.Transformer;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.ievirsh.support.Repo;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * SafeXml's writer against the JDK's own serializer: whatever either writes
 * parses back to the same tree, and to the tree that was written.
 */
class SafeXmlTest {
    private static final String HOSTILE = "</x>&amp; ' \" ]]> <!-- <evil/> \t tab\nline\r\nend \u00e9\u4e2d\ud83d\ude00";

    private static String jdk(Node node) throws Exception {
        Transformer transformer = TransformerFactory.newInstance().newTransformer();
        transformer.setOutputProperty(OutputKeys.OMIT_XML_DECLARATION, "yes");
        StringWriter out = new StringWriter();
        transformer.transform(new DOMSource(node), new StreamResult(out));
        return out.toString();
    }

    private static Document parse(String xml) throws Exception {
        return SafeXml.parse(xml.getBytes(StandardCharsets.UTF_8));
    }

    /** Written by us and by the JDK, the node parses back to the same tree, equal to the node itself. */
    private static void assertWritesLikeTheJdk(Node node) throws Exception {
        Document ours = parse(SafeXml.write(node));
        Document theirs = parse(jdk(node));
        assertTrue(ours.getDocumentElement().isEqualNode(theirs.getDocumentElement()),
                "ours: " + SafeXml.write(node) + "\nJDK:  " + jdk(node));
        Element original = node instanceof Document d ? d.getDocumentElement() : (Element) node;
        assertEquals(original.getNamespaceURI(), ours.getDocumentElement().getNamespaceURI());
        assertEquals(original.getTextContent(), ours.getDocumentElement().getTextContent());
    }

    @Test
    void theShippedTemplatesAndARenderingWriteAsTheJdkWritesThem() throws Exception {
        for (String name : new String[] {"standard", "small"}) {
            Document template = SafeXml.parse(Files.readAllBytes(Repo.path("templates/" + name + ".xml")));
            assertWritesLikeTheJdk(template);
            assertTrue(parse(SafeXml.write(template)).getDocumentElement().isEqualNode(template.getDocumentElement()));
        }
    }

    @Test
    void hostileTextInTextAndAttributesComesBackExactly() throws Exception {
        Document doc = SafeXml.newDocument();
        Element root = doc.createElement("domain");
        doc.appendChild(root);
        Element text = doc.createElement("description");
        text.setTextContent(HOSTILE);
        text.setAttribute("title", HOSTILE);
        root.appendChild(text);
        root.appendChild(doc.createCDATASection("raw ]]> inside & <b>"));
        root.appendChild(doc.createComment(" an admin's note "));
        assertWritesLikeTheJdk(doc);
        Element back = (Element) parse(SafeXml.write(doc)).getDocumentElement().getFirstChild();
        assertEquals(HOSTILE, back.getTextContent());
        assertEquals(HOSTILE, back.getAttribute("title"), "attribute white space is kept, not folded");
        assertEquals(1, parse(SafeXml.write(doc)).getDocumentElement().getElementsByTagName("*").getLength(),
                "no element but <description> came out of the text");
        assertEquals(HOSTILE + "raw ]]> inside & <b>", parse(SafeXml.write(doc)).getDocumentElement().getTextContent(),
                "a CDATA section holding \"]]>\" is split in two, its text whole");
    }

    @Test
    void namespacesAreDeclaredWhereTheyAreUsedAndNotInScope() throws Exception {
        String xml = "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"
                + "<metadata><other:x xmlns:other='urn:other' other:a='1'/></metadata>"
                + "<qemu:commandline><qemu:arg value='-x'/></qemu:commandline></domain>";
        Document doc = parse(xml);
        Element metadata = (Element) doc.getDocumentElement().getFirstChild();
        Element ours = doc.createElementNS(DomainMetadata.NAMESPACE, "iev:vm");
        ours.setAttributeNS("urn:attr", "at:flag", "yes");
        Element child = doc.createElementNS(DomainMetadata.NAMESPACE, "iev:description");
        child.setTextContent("d");
        ours.appendChild(child);
        metadata.appendChild(ours);
        Element plain = doc.createElementNS(null, "plain");
        Element defaulted = doc.createElementNS("urn:default", "inner");
        defaulted.appendChild(plain);
        metadata.appendChild(defaulted);
        assertWritesLikeTheJdk(doc);
        Document back = parse(SafeXml.write(doc));
        Element vm = (Element) back.getElementsByTagNameNS(DomainMetadata.NAMESPACE, "vm").item(0);
        assertEquals("yes", vm.getAttributeNS("urn:attr", "flag"));
        assertEquals(1, vm.getElementsByTagNameNS(DomainMetadata.NAMESPACE, "description").getLength());
        assertEquals(1, back.getElementsByTagNameNS("urn:default", "inner").getLength());
        Element plainBack = (Element) back.getElementsByTagNameNS("urn:default", "inner").item(0).getFirstChild();
        assertEquals(null, plainBack.getNamespaceURI(), "a no-namespace child of a default-namespace element stays so");
        assertEquals(1, back.getElementsByTagNameNS("http://libvirt.org/schemas/domain/qemu/1.0", "arg").getLength());
        // An element written alone declares what it needs, whatever its ancestors declared.
        Element alone = parse(SafeXml.write(vm)).getDocumentElement();
        assertEquals(DomainMetadata.NAMESPACE, alone.getNamespaceURI());
        assertWritesLikeTheJdk(metadata.getElementsByTagNameNS("urn:other", "x").item(0));
    }
}
