package org.ievirsh.template;

import java.util.function.Supplier;

/**
 * RenderedDomain is the domain of one VM as the controller defines it, with
 * the figures it was made from. Its XML text is made when it is asked for
 * (to define the domain, or to record it in the status) and not kept: ten
 * thousand students' domains would hold a lot of text for nothing.
 */
public final class RenderedDomain {
    private final Supplier<String> xml;
    private final String renderHash;
    private final DomainMetadata metadata;
    private final String domainName;
    private final String uuid;
    private final int vcpus;
    private final long memoryBytes;
    private final String imagePath;
    private final String diskFormat;
    private volatile String text;

    /**
     * @param xml        makes the XML text
     * @param renderHash hash of what the guest sees: a change means "redefine"
     */
    public RenderedDomain(Supplier<String> xml, String renderHash, DomainMetadata metadata, String domainName,
                          String uuid, int vcpus, long memoryBytes, String imagePath, String diskFormat) {
        this.xml = xml;
        this.renderHash = renderHash;
        this.metadata = metadata;
        this.domainName = domainName;
        this.uuid = uuid;
        this.vcpus = vcpus;
        this.memoryBytes = memoryBytes;
        this.imagePath = imagePath;
        this.diskFormat = diskFormat;
    }

    /** The domain XML, made on first use in a pass and kept until {@link #forgetText}. */
    public String xml() {
        String made = text;
        if (made == null) {
            made = xml.get();
            text = made;
        }
        return made;
    }

    /** Drops the XML text; it is made again if asked for. */
    public void forgetText() {
        text = null;
    }

    /**
     * True when {@code other}'s XML text is this one's: the same rendering,
     * spec hash and description (what the text depends on). Compared field by
     * field, so no key string is kept per VM.
     */
    public boolean sameTextAs(RenderedDomain other) {
        return other != null && renderHash.equals(other.renderHash)
                && metadata.specHash().equals(other.metadata.specHash())
                && metadata.description().equals(other.metadata.description());
    }

    public String renderHash() {
        return renderHash;
    }

    public DomainMetadata metadata() {
        return metadata;
    }

    public String domainName() {
        return domainName;
    }

    public String uuid() {
        return uuid;
    }

    public int vcpus() {
        return vcpus;
    }

    public long memoryBytes() {
        return memoryBytes;
    }

    public String imagePath() {
        return imagePath;
    }

    public String diskFormat() {
        return diskFormat;
    }
}
