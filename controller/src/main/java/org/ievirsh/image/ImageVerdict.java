package org.ievirsh.image;

/**
 * ImageVerdict is the outcome of checking a VM's image: accepted, with the
 * file's identity, or rejected with a reason (a CamelCase word for the
 * condition and the metric) and a message that says what to do.
 *
 * @param identity device and inode of an accepted image, so one file never backs two VMs
 * @param version  the content version the verdict judged (what a look inside it is kept for)
 */
public record ImageVerdict(boolean accepted, String path, String identity, String reason, String message,
                           String version) {

    /** An accepted image at {@code version} (its content version: inode, size, modification time). */
    public static ImageVerdict accept(String path, String identity, String version) {
        return new ImageVerdict(true, path, identity, "ImageAccepted", "", version);
    }

    public static ImageVerdict reject(String path, String reason, String message) {
        return new ImageVerdict(false, path, "", reason, message, "");
    }
}
