package org.ievirsh.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.ievirsh.template.SafeXml;

/**
 * BoxImporter turns a Vagrant box (VirtualBox provider: box.ovf and one
 * VMDK; libvirt provider: box.img) into a standalone qcow2 in a student's
 * image directory. It runs as the student. The archive is read entry by
 * entry with every entry checked before a byte of it is written: only
 * expected plain files, no links, devices, sparse entries, duplicates,
 * absolute or ".." names, and none over the admin's size cap. The disk is
 * checked (no text VMDK, no parent, no backing file) and converted by
 * qemu-img from a json: source with "backing": null, under prlimit.
 */
public final class BoxImporter {
    /** IMAGE_NAME is what the resulting image may be called (the VM file's spec.image rule). */
    public static final String IMAGE_NAME = "^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$";
    private static final Set<String> IGNORED = Set.of("Vagrantfile", "info.json", "include");
    private static final long SMALL_LIMIT = 1024 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final long entryLimit;
    private final long memoryLimit;
    private final Duration cpuLimit;

    /**
     * An importer that unpacks entries of at most {@code entryLimit} bytes and
     * converts with at most {@code memoryLimit} bytes of memory and {@code cpuLimit} of CPU.
     */
    public BoxImporter(long entryLimit, long memoryLimit, Duration cpuLimit) {
        this.entryLimit = entryLimit;
        this.memoryLimit = memoryLimit;
        this.cpuLimit = cpuLimit;
    }

    /** Refused is an archive or disk that is not imported, and why. */
    public static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message);
        }
    }

    /** Imported is the result: where the image is and which provider the box was for. */
    public record Imported(Path image, String provider) {
    }

    /**
     * Imports {@code box} as {@code imageName} into {@code imageDir}; on any
     * refusal nothing is left in {@code imageDir}.
     */
    public Imported importBox(Path box, Path imageDir, String imageName, PrintStream progress)
            throws Refused, IOException, InterruptedException {
        if (!imageName.matches(IMAGE_NAME)) {
            throw new Refused("the image name \"" + imageName + "\" is not valid: a plain file name like web.qcow2");
        }
        Path target = imageDir.resolve(imageName);
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new Refused(target + " already exists; choose another name with --image");
        }
        if (!Files.isDirectory(imageDir, LinkOption.NOFOLLOW_LINKS)) {
            throw new Refused("your image directory " + imageDir + " does not exist; ask an admin to create it");
        }
        Path work = Files.createTempDirectory(imageDir, ".import-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        try {
            Unpacked unpacked = unpack(box, work);
            String provider = provider(unpacked);
            Path disk;
            String format;
            if (provider.equals("virtualbox")) {
                if (unpacked.ovf == null || unpacked.vmdk == null) {
                    throw new Refused("a VirtualBox box needs box.ovf and one .vmdk");
                }
                checkOvf(unpacked.ovf);
                disk = unpacked.vmdk;
                format = "vmdk";
                Optional<String> refusal = Vmdk.refusal(disk.getFileName().toString(), head(disk, Vmdk.HEADER_BYTES));
                if (refusal.isPresent()) {
                    throw new Refused(disk.getFileName() + ": " + refusal.get());
                }
            } else {
                if (unpacked.img == null) {
                    throw new Refused("a libvirt box needs box.img");
                }
                disk = unpacked.img;
                format = "qcow2";
                Optional<Qcow2Header.Refusal> refusal = Qcow2Header.refusal(head(disk, Qcow2Header.BYTES_NEEDED));
                if (refusal.isPresent()) {
                    throw new Refused("box.img: " + refusal.get().message());
                }
            }
            Path converted = work.resolve("converted.qcow2");
            convert(disk, format, converted, progress);
            Optional<Qcow2Header.Refusal> result = Qcow2Header.refusal(head(converted, Qcow2Header.BYTES_NEEDED));
            if (result.isPresent()) {
                throw new Refused("the converted image is not a standalone qcow2: " + result.get().message());
            }
            try {
                Files.move(converted, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException e) {
                throw new Refused(target + " appeared meanwhile; choose another name with --image");
            }
            return new Imported(target, provider);
        } finally {
            removeAll(work);
        }
    }

    private static final class Unpacked {
        Path metadata;
        Path ovf;
        Path vmdk;
        Path img;
    }

    private Unpacked unpack(Path box, Path work) throws IOException, Refused {
        Unpacked unpacked = new Unpacked();
        Set<String> seen = new HashSet<>();
        try (InputStream file = new BufferedInputStream(Files.newInputStream(box));
             TarArchiveInputStream tar = new TarArchiveInputStream(decompressed(file))) {
            TarArchiveEntry entry;
            int count = 0;
            while ((entry = tar.getNextEntry()) != null) {
                if (++count > 64) {
                    throw new Refused("the box has too many entries; a Vagrant box has a handful");
                }
                String name = checkedName(entry.getName());
                if (name == null) {
                    continue; // the archive's own top directory: "./"
                }
                if (!seen.add(name)) {
                    throw new Refused("the box holds " + name + " twice");
                }
                checkType(entry, name);
                long limit = name.endsWith(".vmdk") || name.equals("box.img") ? entryLimit : SMALL_LIMIT;
                if (entry.getSize() > limit) {
                    throw new Refused(name + " is " + entry.getSize() + " bytes; the limit is " + limit);
                }
                if (IGNORED.contains(name) || name.endsWith(".mf")) {
                    continue;
                }
                Path out;
                if (name.equals("metadata.json")) {
                    out = unpacked.metadata = work.resolve("metadata.json");
                } else if (name.equals("box.ovf")) {
                    out = unpacked.ovf = work.resolve("box.ovf");
                } else if (name.equals("box.img")) {
                    out = unpacked.img = work.resolve("box.img");
                } else if (name.endsWith(".vmdk")) {
                    if (unpacked.vmdk != null) {
                        throw new Refused("the box holds more than one .vmdk; only one disk is accepted");
                    }
                    out = unpacked.vmdk = work.resolve(name);
                } else {
                    throw new Refused("the box holds an unexpected file \"" + name + "\"; a Vagrant box has"
                            + " metadata.json, Vagrantfile, and box.ovf with one .vmdk or box.img");
                }
                copy(tar, out, limit, name);
            }
        } catch (IOException e) {
            if (e.getCause() instanceof Refused refused) {
                throw refused;
            }
            throw new Refused("the box cannot be read as a tar or tar.gz archive: " + e.getMessage());
        }
        if (unpacked.metadata == null) {
            throw new Refused("the box has no metadata.json; is it a Vagrant box?");
        }
        return unpacked;
    }

    private static InputStream decompressed(InputStream in) throws IOException {
        in.mark(2);
        int first = in.read();
        int second = in.read();
        in.reset();
        return first == 0x1f && second == 0x8b ? new GzipCompressorInputStream(in, true) : in;
    }

    /** The entry's name as one plain file name; null for the archive's top directory; refusal otherwise. */
    private static String checkedName(String raw) throws Refused {
        String name = raw;
        while (name.startsWith("./")) {
            name = name.substring(2);
        }
        if (name.isEmpty() || name.equals(".")) {
            return null;
        }
        if (raw.startsWith("/")) {
            throw new Refused("the box holds an absolute name \"" + raw + "\"");
        }
        for (String part : name.split("/")) {
            if (part.equals("..")) {
                throw new Refused("the box holds a name with \"..\": \"" + raw + "\"");
            }
        }
        if (name.contains("/") || name.indexOf('\0') >= 0 || name.chars().anyMatch(c -> c < 0x20)) {
            throw new Refused("the box holds \"" + raw + "\"; a Vagrant box holds plain files only");
        }
        return name;
    }

    private static void checkType(TarArchiveEntry entry, String name) throws Refused {
        if (entry.isSymbolicLink() || entry.isLink()) {
            throw new Refused(name + " is a link (to \"" + entry.getLinkName() + "\"); links are not accepted");
        }
        if (entry.isCharacterDevice() || entry.isBlockDevice() || entry.isFIFO()) {
            throw new Refused(name + " is a device or FIFO; only plain files are accepted");
        }
        if (entry.isSparse() || entry.isOldGNUSparse() || entry.isPaxGNUSparse() || entry.isStarSparse()) {
            throw new Refused(name + " is a sparse entry (announcing " + entry.getRealSize()
                    + " bytes); sparse entries are not accepted");
        }
        if (entry.isDirectory()) {
            throw new Refused(name + " is a directory; a Vagrant box holds plain files only");
        }
        if (!entry.isFile()) {
            throw new Refused(name + " is not a plain file");
        }
    }

    private static void copy(InputStream in, Path out, long limit, String name) throws IOException, Refused {
        byte[] buffer = new byte[1 << 16];
        long total = 0;
        try (OutputStream os = Files.newOutputStream(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS)) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                total += n;
                if (total > limit) {
                    throw new Refused(name + " is larger than the limit of " + limit + " bytes");
                }
                os.write(buffer, 0, n);
            }
        }
    }

    private static String provider(Unpacked unpacked) throws IOException, Refused {
        JsonNode metadata;
        try {
            metadata = JSON.readTree(unpacked.metadata.toFile());
        } catch (IOException e) {
            throw new Refused("metadata.json is not JSON: " + e.getMessage());
        }
        String provider = metadata.path("provider").asText("");
        if (!provider.equals("virtualbox") && !provider.equals("libvirt")) {
            throw new Refused("metadata.json names the provider \"" + provider + "\"; only virtualbox and libvirt"
                    + " boxes can be imported");
        }
        return provider;
    }

    private static void checkOvf(Path ovf) throws IOException, Refused {
        try {
            SafeXml.parse(Files.readAllBytes(ovf));
        } catch (IOException e) {
            throw new Refused("box.ovf is not acceptable XML (" + e.getMessage() + ")");
        }
    }

    private static byte[] head(Path file, int bytes) throws IOException {
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            return in.readNBytes(bytes);
        }
    }

    private void convert(Path disk, String format, Path out, PrintStream progress)
            throws IOException, InterruptedException, Refused {
        ObjectNode source = JSON.createObjectNode();
        source.put("driver", format);
        source.putNull("backing");
        source.putObject("file").put("driver", "file").put("filename", disk.toString());
        List<String> command = new ArrayList<>(List.of("prlimit", "--as=" + memoryLimit, "--cpu=" + cpuLimit.toSeconds(),
                "qemu-img", "convert"));
        if (progress != null) {
            command.add("-p");
        }
        command.addAll(List.of("-O", "qcow2", "json:" + JSON.writeValueAsString(source), out.toString()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        Process process = builder.start();
        byte[] buffer = new byte[256];
        StringBuilder output = new StringBuilder();
        try (InputStream in = process.getInputStream()) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                if (progress != null) {
                    progress.write(buffer, 0, n);
                    progress.flush();
                }
                if (output.length() < 4000) {
                    output.append(new String(buffer, 0, n, java.nio.charset.StandardCharsets.UTF_8));
                }
            }
        }
        if (!process.waitFor(cpuLimit.toSeconds() * 2 + 60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new Refused("the conversion took too long");
        }
        if (progress != null) {
            progress.println();
        }
        if (process.exitValue() != 0) {
            throw new Refused("qemu-img could not convert the disk: " + output.toString().strip());
        }
    }

    private static void removeAll(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
