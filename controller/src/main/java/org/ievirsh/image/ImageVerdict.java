package org.ievirsh.image;

/**
 * ImageVerdict is the outcome of checking a VM's image: accepted, with the
 * file's identity, or rejected with a reason (a CamelCase word for the
 * condition and the metric) and a message that says what to do.
 *
 * @param identity device and inode of an accepted image, so one file never backs two VMs
 */
public record ImageVerdict(boolean accepted, String path, String identity, String reason, String message) {

    public static ImageVerdict accept(String path, String identity) {
        return new ImageVerdict(true, path, identity, "ImageAccepted", "");
    }

    public static ImageVerdict reject(String path, String reason, String message) {
        return new ImageVerdict(false, path, "", reason, message);
    }
}
