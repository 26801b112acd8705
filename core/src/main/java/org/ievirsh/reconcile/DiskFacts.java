package org.ievirsh.reconcile;

import java.util.Optional;
import java.util.OptionalLong;
import org.ievirsh.image.BaseImages;
import org.ievirsh.image.Inspection;

/**
 * DiskFacts is what is known of a VM's disk beyond its image file, as
 * gathered (the planner decides): the admin's base it is, or is to be, an
 * overlay of; its NoCloud seed; and the student's disk quota.
 *
 * @param base  the base, when the file asks for one (spec.baseImage) or the image is an overlay of one
 * @param seed  the seed, when the VM boots with cloud-init
 * @param used  the virtual sizes of the student's other disks made from bases, in bytes
 * @param limit the student's disk quota in bytes ({@link org.ievirsh.quota.QuotaLimits#UNLIMITED}: none)
 */
public record DiskFacts(Optional<Base> base, Optional<Seed> seed, long used, long limit) {
    public static final DiskFacts STANDALONE = new DiskFacts(Optional.empty(), Optional.empty(), 0,
            org.ievirsh.quota.QuotaLimits.UNLIMITED);

    /**
     * Base is the admin's base of a VM's disk.
     *
     * @param name       its name
     * @param asked      the file names it (spec.baseImage): a missing disk is made from it
     * @param entry      the catalog's file of that name; empty: there is none
     * @param inspection what is known of its inside (null: inspection is off)
     * @param recorded   the version the VM's domain was defined with ({@code name@version}), if it has one
     * @param size       the size asked for the disk to make (spec.disk); empty: the base's
     */
    public record Base(String name, boolean asked, Optional<BaseImages.Base> entry, Inspection inspection,
                       Optional<String> recorded, OptionalLong size) {
        /** What the metadata records of it: its name and the version of its file now. */
        public Optional<String> stamp() {
            return entry.map(e -> name + "@" + e.version());
        }

        /**
         * The VM's domain was defined with another file of this name than the
         * one there now, or with one that is gone (a domain made from another
         * base, before the student changed spec.baseImage, is not this).
         */
        public boolean changed() {
            return recorded.filter(r -> r.startsWith(name + "@")).isPresent() && !recorded.equals(stamp());
        }
    }

    /**
     * Seed is a VM's NoCloud seed.
     *
     * @param path    where it is, {@code <images.root>/<user>/.seed/<vm>.iso}
     * @param inputs  what it is to be made from now (a stamp of the key file, the user-data file and the VM)
     * @param current  the seed there was made from these inputs
     * @param userData the student's {@code <dir>/<vm>.user-data}, by path (read, as them, to make the seed)
     * @param uuid     the VM's UUID, its instance-id
     */
    public record Seed(String path, String inputs, boolean current, String userData, String uuid) {
    }
}
