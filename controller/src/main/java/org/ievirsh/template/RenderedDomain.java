package org.ievirsh.template;

/**
 * RenderedDomain is the domain XML of one VM as the controller defines it,
 * with the figures it was made from.
 *
 * @param renderHash hash of everything the XML was made from: a change means "redefine"
 */
public record RenderedDomain(String xml, String renderHash, DomainMetadata metadata, String domainName, String uuid,
                             int vcpus, long memoryBytes, String imagePath, String diskFormat) {
}
