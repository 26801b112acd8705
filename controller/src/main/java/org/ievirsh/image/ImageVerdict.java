package org.ievirsh.image;

/**
 * ImageVerdict is the outcome of checking a VM's image: accepted, with the
 * file's identity, or rejected with a reason (a CamelCase word for the
 * condition and the metric) and a message that says what to do.
 *
 * @param identity device and inode of an accepted image, so one file never backs two VMs
 * @param version  the content version the verdict judged (what a look inside it is kept for)
 * @param blank    the image holds no data at all (a qcow2 that maps no cluster): nothing to look inside
 */
public record ImageVerdict(boolean accepted, String path, String identity, String reason, String message,
                           String version, boolean blank) {

    /** An accepted image at {@code version} (its content version: inode, size, modification time). */
    public static ImageVerdict accept(String path, String identity, String version) {
        return new ImageVerdict(true, path, identity, "ImageAccepted", "", version, false);
    }

    /** An accepted image that holds no data at {@code version}. */
    public static ImageVerdict acceptBlank(String path, String identity, String version) {
        return new ImageVerdict(true, path, identity, "ImageAccepted", "", version, true);
    }

    public static ImageVerdict reject(String path, String reason, String message) {
        return new ImageVerdict(false, path, "", reason, message, "", false);
    }
}
