package org.ievirsh.image;

/**
 * ImageVerdict is the outcome of checking a VM's image: accepted, with the
 * file's identity, or rejected with a reason (a CamelCase word for the
 * condition and the metric) and a message that says what to do.
 *
 * @param identity device and inode of an accepted image, so one file never backs two VMs
 * @param version  the content version the verdict judged (what a look inside it is kept for)
 * @param blank    the image holds no data at all (a qcow2 that maps no cluster): nothing to look inside
 *                 but its base, if it has one
 * @param backing  the base image the image is an overlay of (its path as the header names it), if any
 * @param virtualSize the disk's virtual size in bytes (qcow2), -1 when not known
 */
public record ImageVerdict(boolean accepted, String path, String identity, String reason, String message,
                           String version, boolean blank, java.util.Optional<String> backing, long virtualSize) {

    /** NOT_FOUND is the reason of an image that is not there (a base-image VM's disk is then made). */
    public static final String NOT_FOUND = "ImageNotFound";

    /** An accepted image at {@code version} (its content version: inode, size, modification time). */
    public static ImageVerdict accept(String path, String identity, String version) {
        return new ImageVerdict(true, path, identity, "ImageAccepted", "", version, false, java.util.Optional.empty(),
                -1);
    }

    /** An accepted image that holds no data at {@code version}. */
    public static ImageVerdict acceptBlank(String path, String identity, String version) {
        return new ImageVerdict(true, path, identity, "ImageAccepted", "", version, true, java.util.Optional.empty(),
                -1);
    }

    public static ImageVerdict reject(String path, String reason, String message) {
        return new ImageVerdict(false, path, "", reason, message, "", false, java.util.Optional.empty(), -1);
    }

    /** The same verdict for an overlay of {@code base} of {@code size} bytes. */
    public ImageVerdict over(java.util.Optional<String> base, long size) {
        return new ImageVerdict(accepted, path, identity, reason, message, version, blank, base, size);
    }

    /** True when the image file is not there. */
    public boolean missing() {
        return !accepted && NOT_FOUND.equals(reason);
    }
}
