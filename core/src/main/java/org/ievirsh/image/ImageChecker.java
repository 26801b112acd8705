package org.ievirsh.image;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.ievirsh.posix.FileStat;
import org.ievirsh.posix.OpenFile;
import org.ievirsh.posix.PosixException;
import org.ievirsh.posix.SafeDir;

/**
 * ImageChecker decides whether a student's image may become a VM's disk
 * (the README's configuration): {@code <images.root>/<user>/<image>}, reached without
 * following any symbolic link below the root, a regular file owned by the
 * user, of the template's format, and for qcow2 with no backing file, no
 * external data file and no encryption.
 */
public final class ImageChecker {
    private final Path root;
    /** The admin's bases: an overlay of a ready one is accepted (its chain ends there). */
    private volatile BaseImages bases = new BaseImages(Optional.empty());

    private record Cached(String version, String format, ImageVerdict verdict) {
    }

    /** Memory is one student's verdicts by image path, each kept for the stat it judged. */
    public static final class Memory {
        private final Map<String, Cached> verdicts = new ConcurrentHashMap<>();
    }

    public ImageChecker(Path root) {
        this.root = root;
    }

    /** Accepts from now on overlays of the ready bases of {@code catalog}. */
    public ImageChecker withBases(BaseImages catalog) {
        this.bases = catalog;
        return this;
    }

    /** The path an image of {@code user} named {@code image} has. */
    public Path pathOf(String user, String image) {
        return root.resolve(user).resolve(image);
    }

    /**
     * Checks {@code image} of {@code user} (whose files are owned by
     * {@code uid}) for a template that wants {@code format}.
     */
    public ImageVerdict check(String user, int uid, String image, String format) {
        try (Session session = open(user, uid, new Memory())) {
            return session.check(image, format, false);
        }
    }

    /**
     * Session is one user's image directory, opened once for all of the
     * user's VMs in a pass.
     */
    public final class Session implements AutoCloseable {
        private final String user;
        private final int uid;
        private final SafeDir dir;
        private final ImageVerdict refusal;
        private final Optional<FileStat> directoryStat;
        private final Map<String, Optional<FileStat>> stats = new java.util.HashMap<>();
        /** The images checked as the disk of a VM that runs. */
        private final java.util.Set<String> inUse = new java.util.HashSet<>();
        private final Memory memory;
        private boolean unknown;

        private Session(String user, int uid, SafeDir dir, ImageVerdict refusal, Optional<FileStat> directoryStat,
                        Memory memory) {
            this.memory = memory;
            this.user = user;
            this.uid = uid;
            this.dir = dir;
            this.refusal = refusal;
            this.directoryStat = directoryStat;
        }

        /**
         * Checks an image; {@code running} says its VM's domain runs now, and
         * libvirt (dynamic_ownership) has then given the file to the QEMU user
         * until the domain stops: its owner is not held against it while it runs.
         */
        public ImageVerdict check(String image, String format, boolean running) {
            return check(image, format, running, false);
        }

        /**
         * Checks an image; {@code starting} says its VM is about to start:
         * then the header is read again whatever the cache says (a stat is no
         * proof: a page mapped shared and written keeps size and times).
         */
        public ImageVerdict check(String image, String format, boolean running, boolean starting) {
            if (running) {
                inUse.add(image);
            }
            String path = pathOf(user, image).toString();
            if (refusal != null) {
                return ImageVerdict.reject(path, refusal.reason(), refusal.message());
            }
            try {
                return checkFile(dir, path, image, uid, format, running, starting, memory.verdicts, stats);
            } catch (PosixException e) {
                unknown = true;
                return ImageVerdict.reject(path, "ImageUnreadable", "cannot read " + path + ": " + e.getMessage());
            }
        }

        /**
         * Opens an image for a look inside it, if it is still the regular file
         * of the user at {@code version} (the version its check saw); null if
         * it is not.
         */
        public OpenFile openIfUnchanged(String image, String version) throws PosixException {
            if (dir == null) {
                return null;
            }
            OpenFile file = dir.open(image);
            if (file == null) {
                return null;
            }
            FileStat stat = file.stat();
            if (!stat.isRegular() || stat.uid() != uid || !stat.contentVersion().equals(version)) {
                file.close();
                return null;
            }
            return file;
        }

        /** True when {@code image} is still the regular file of the user at {@code version}. */
        public boolean unchanged(String image, String version) throws PosixException {
            try (OpenFile file = openIfUnchanged(image, version)) {
                return file != null;
            }
        }

        /** The uid that owns this user's images. */
        public int uid() {
            return uid;
        }

        /** The content version of an image as its check in this session saw it; empty if it was not seen. */
        public String versionOf(String image) {
            Optional<FileStat> seen = stats.get(image);
            return seen == null || seen.isEmpty() ? "" : seen.get().contentVersion();
        }

        /**
         * What this session's verdicts rest on: the image directory and each
         * image checked, by path, with the stat each had before it was looked
         * at (empty: nothing was there). While all of them stat the same, the
         * same checks give the same verdicts. Null when a verdict rests on
         * something no stat tells (an unreadable directory or image).
         */
        public Map<Path, Optional<FileStat>> dependencies() {
            if (directoryStat == null || unknown) {
                return null;
            }
            Map<Path, Optional<FileStat>> on = new java.util.HashMap<>();
            on.put(root.resolve(user), directoryStat);
            stats.forEach((image, stat) -> on.put(pathOf(user, image), stat));
            return on;
        }

        /** The paths of the images checked as a running VM's disk (of {@link #dependencies}, those QEMU writes). */
        public java.util.Set<Path> inUse() {
            java.util.Set<Path> paths = new java.util.HashSet<>();
            inUse.forEach(image -> paths.add(pathOf(user, image)));
            return paths;
        }

        @Override
        public void close() {
            if (dir != null) {
                dir.close();
            }
        }
    }

    /**
     * Opens the image directory of {@code user}, whose files are owned by
     * {@code uid}, with the verdicts kept in {@code memory}.
     */
    public Session open(String user, int uid, Memory memory) {
        Path userPath = root.resolve(user);
        try (SafeDir rootDir = SafeDir.openTrusted(root)) {
            SafeDir userDir;
            try {
                userDir = rootDir.openDir(user);
            } catch (PosixException e) {
                if (e.isNotFound()) {
                    return new Session(user, uid, null, ImageVerdict.reject("", "ImageDirectoryMissing",
                            "your image directory " + userPath + " does not exist; ask an admin to create it"),
                            Optional.empty(), memory);
                }
                if (e.isSymlinkRefused()) {
                    return new Session(user, uid, null, ImageVerdict.reject("", "ImageDirectoryNotADirectory",
                            "your image directory " + userPath + " is a symbolic link or not a directory; it must be"
                                    + " a directory"), null, memory);
                }
                throw e;
            }
            FileStat dirStat = userDir.stat();
            if (dirStat.uid() != uid && dirStat.uid() != 0) {
                userDir.close();
                return new Session(user, uid, null, ImageVerdict.reject("", "ImageDirectoryForeign",
                        "your image directory " + userPath + " belongs to uid " + dirStat.uid()
                                + ", not to you; ask an admin"), Optional.of(dirStat), memory);
            }
            // Your VMs run as you: their QEMU must be able to enter the directory.
            int search = dirStat.uid() == uid ? 0100 : 0001;
            if ((dirStat.mode() & search) == 0) {
                userDir.close();
                return new Session(user, uid, null, ImageVerdict.reject("", "ImageNotAccessible",
                        "your image directory " + userPath + " cannot be entered by you (mode "
                                + String.format("%04o", dirStat.mode()) + "), and your VMs run as you; "
                                + (dirStat.uid() == uid ? "chmod u+x " + userPath : "ask an admin to make it"
                                + " searchable (chmod o+x)")), Optional.of(dirStat), memory);
            }
            return new Session(user, uid, userDir, null, Optional.of(dirStat), memory);
        } catch (PosixException e) {
            return new Session(user, uid, null, ImageVerdict.reject("", "ImageUnreadable", "cannot read " + userPath
                    + ": " + e.getMessage()), null, memory);
        }
    }

    /** A file's version for the cache: its stat, and the catalog's (an overlay's verdict rests on its base). */
    private String versionWithBases(FileStat stat) {
        return stat.version() + "|" + bases.generation();
    }

    private ImageVerdict checkFile(SafeDir dir, String path, String image, int uid, String format,
                                          boolean running, boolean starting, Map<String, Cached> cache,
                                          Map<String, Optional<FileStat>> stats) throws PosixException {
        // The usual case, a file checked before and unchanged since: one stat, no open. Not before a start:
        // then the header is read again.
        Optional<FileStat> seen = dir.stat(image);
        stats.put(image, seen);
        Cached known = cache.get(path);
        if (!starting && seen.isPresent() && known != null && seen.get().isRegular()
                && (seen.get().uid() == uid || running) && known.version().equals(versionWithBases(seen.get()))
                && known.format().equals(format)) {
            return known.verdict();
        }
        OpenFile file;
        try {
            file = dir.open(image);
        } catch (PosixException e) {
            if (e.isSymlinkRefused()) {
                return ImageVerdict.reject(path, "ImageIsSymlink", image + " is a symbolic link;"
                        + " put the image file itself in your image directory");
            }
            throw e;
        }
        if (file == null) {
            return ImageVerdict.reject(path, ImageVerdict.NOT_FOUND, "there is no " + image + " in your image directory "
                    + Path.of(path).getParent() + "; upload it there");
        }
        try (file) {
            FileStat stat = file.stat();
            if (!stat.isRegular()) {
                return ImageVerdict.reject(path, "ImageNotRegular", image + " is not a regular file");
            }
            if (stat.uid() != uid && !running) {
                return ImageVerdict.reject(path, "ImageNotOwned", image + " belongs to uid " + stat.uid()
                        + ", not to you; only your own files can be your VMs' disks");
            }
            if (stat.uid() == uid && (stat.mode() & 0600) != 0600) {
                return ImageVerdict.reject(path, "ImageNotAccessible", image + " is not readable and writable by"
                        + " you (mode " + String.format("%04o", stat.mode()) + "), and your VM runs as you:"
                        + " chmod u+rw " + image);
            }
            Cached cached = cache.get(path);
            String version = versionWithBases(stat);
            if (!starting && cached != null && cached.version().equals(version)
                    && cached.format().equals(format)) {
                return cached.verdict();
            }
            ImageVerdict verdict = checkContent(file, stat, path, image, format, bases);
            cache.put(path, new Cached(version, format, verdict));
            return verdict;
        }
    }

    private static ImageVerdict checkContent(OpenFile file, FileStat stat, String path, String image,
                                             String format, BaseImages bases) throws PosixException {
        byte[] head = file.readAt(0, (int) Math.min(stat.size(), Qcow2Header.FIRST_READ));
        int needed = Qcow2Header.bytesNeeded(head);
        if (needed > head.length && stat.size() > head.length) {
            head = file.readAt(0, (int) Math.min(stat.size(), needed));
        }
        Optional<Qcow2Header.Refusal> refusal;
        if (format.equals("qcow2")) {
            refusal = Qcow2Header.refusal(head, bases::isReadyBase);
        } else if (Qcow2Header.looksLikeQcow2(head)) {
            refusal = Optional.of(new Qcow2Header.Refusal("WrongFormat", "it is a qcow2 image, but the template"
                    + " expects a raw image; convert it: qemu-img convert -O raw " + image + " NEW.img"));
        } else {
            refusal = Optional.empty();
        }
        if (refusal.isPresent()) {
            return ImageVerdict.reject(path, refusal.get().reason(), image + ": " + refusal.get().message());
        }
        String identity = stat.device() + ":" + stat.inode();
        ImageVerdict verdict = format.equals("qcow2") && blank(file, stat, head)
                ? ImageVerdict.acceptBlank(path, identity, stat.contentVersion())
                : ImageVerdict.accept(path, identity, stat.contentVersion());
        return format.equals("qcow2") ? verdict.over(Qcow2Header.backingFile(head), Qcow2Header.virtualSize(head))
                : verdict;
    }

    /**
     * True when the qcow2 image maps no cluster: no internal snapshot and an
     * active L1 table of zeros (a fresh {@code qemu-img create}). It holds no
     * key and no password, so it needs no look inside; once anything is
     * written its version changes and it is checked again.
     */
    private static boolean blank(OpenFile file, FileStat stat, byte[] head) throws PosixException {
        Optional<long[]> l1 = Qcow2Header.activeL1(head);
        if (l1.isEmpty()) {
            return false;
        }
        long offset = l1.get()[0];
        long bytes = l1.get()[1] * 8;
        if (bytes == 0) {
            return true;
        }
        if (bytes > Qcow2Header.L1_BYTES_LIMIT || offset + bytes > stat.size()) {
            return false;
        }
        byte[] table = file.readAt(offset, (int) bytes);
        return table.length == bytes && Qcow2Header.allZero(table);
    }
}
