package org.ievirsh.image;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.regex.Pattern;

/**
 * StudentDisks makes the files of a student's VM that come from the admin's
 * base images, always as the student ({@link AsStudent}), in the student's
 * image directory:
 *
 * <ul>
 *   <li>an overlay: {@code qemu-img create} of a qcow2 whose backing file is
 *       the base's absolute path with its format named, made under a
 *       temporary name and then linked to its name, which fails if anything
 *       is there: a file is never overwritten;</li>
 *   <li>a NoCloud seed, {@code .seed/<vm>.iso}: an ISO 9660 volume labelled
 *       {@code cidata} holding {@code meta-data} and {@code user-data}, made
 *       by {@code genisoimage} and renamed over the last one, with the hash
 *       of its inputs beside it ({@code .seed/<vm>.inputs}) so that it is
 *       made again only when they change;</li>
 *   <li>what a seed is made from: the student's public keys (their
 *       {@code ~/.ssh/authorized_keys} read as them, a link to a file they
 *       cannot read reads nothing, at most {@link #KEYS_BYTES}, only the
 *       lines that are keys kept) and their {@code <vm>.user-data}.</li>
 * </ul>
 */
public final class StudentDisks {
    /** KEYS_BYTES bounds what is read of an authorized_keys file. */
    public static final int KEYS_BYTES = 64 * 1024;
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final Pattern KEY = Pattern.compile("(?:ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-nistp(?:256|384|521)"
            + "|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\\.com) [A-Za-z0-9+/]{16,16384}={0,3}(?: [ -~]{0,256})?");

    private StudentDisks() {
    }

    /**
     * Makes {@code image} in {@code dir} (the student's image directory) as
     * an overlay of {@code base}, of {@code size} bytes (empty: the base's);
     * fails, and leaves anything there as it is, when the name is taken.
     */
    public static void overlay(int uid, int gid, Path dir, String image, Path base, OptionalLong size)
            throws IOException {
        String script = "t=\".$2.new.$$\"\n"
                + "qemu-img create -q -f qcow2 -F qcow2 -b \"$1\" -- \"$t\" $3 || exit 1\n"
                + "ln -- \"$t\" \"$2\"; rc=$?\nrm -f -- \"$t\"\n"
                + "[ $rc = 0 ] || echo \"$2 is there already: it was not replaced\" >&2\nexit $rc\n";
        List<String> args = new ArrayList<>(List.of(base.toString(), image));
        if (size.isPresent()) {
            args.add(Long.toString(size.getAsLong()));
        }
        AsStudent.Result result = AsStudent.run(uid, gid, dir, script, args, Map.of(), 4096, TIMEOUT);
        if (!result.ok()) {
            throw new IOException("qemu-img create failed: " + result.text());
        }
    }

    /** USER_DATA_BYTES bounds a student's user-data file. */
    public static final int USER_DATA_BYTES = 64 * 1024;

    /**
     * What a seed is made from, as the student gave it: the key lines of
     * their {@code ~/.ssh/authorized_keys} and their {@code <vm>.user-data}.
     */
    public record SeedInputs(List<String> keys, java.util.Optional<String> userData) {
    }

    /**
     * Reads, as the student, the key lines of {@code <home>/.ssh/authorized_keys}
     * (a link to a file they cannot read reads nothing; at most
     * {@link #KEYS_BYTES}; only lines that are public keys: type, data,
     * comment, no options) and {@code userData} when it is a regular file of
     * theirs (not a link, not another's); over {@link #USER_DATA_BYTES} that
     * is refused with a message.
     */
    public static SeedInputs seedInputs(int uid, int gid, java.util.Optional<Path> home, Path userData)
            throws IOException {
        List<String> keys = new ArrayList<>();
        if (home.isPresent()) {
            byte[] bytes = AsStudent.exec(uid, gid, Path.of("/"), List.of("head", "-c", Integer.toString(KEYS_BYTES),
                    "--", home.get().resolve(".ssh/authorized_keys").toString()), Map.of(), KEYS_BYTES, TIMEOUT).output();
            for (String line : new String(bytes, StandardCharsets.UTF_8).split("\n")) {
                String key = line.strip();
                if (KEY.matcher(key).matches() && keys.size() < 256) {
                    keys.add(key);
                }
            }
        }
        return new SeedInputs(keys, ownUserData(uid, gid, userData));
    }

    /** The student's user-data file, when it is theirs; read as them. */
    private static java.util.Optional<String> ownUserData(int uid, int gid, Path path) throws IOException {
        java.util.Optional<org.ievirsh.posix.FileStat> stat;
        try {
            stat = new org.ievirsh.posix.Lstat(path).now();  // lstat: a link is seen as a link
        } catch (org.ievirsh.posix.PosixException e) {
            throw new IOException(path.getFileName() + " cannot be read: " + e.getMessage());
        }
        if (stat.isEmpty() || !stat.get().isRegular() || stat.get().uid() != uid) {
            return java.util.Optional.empty();
        }
        AsStudent.Result result = AsStudent.exec(uid, gid, Path.of("/"), List.of("head", "-c",
                Integer.toString(USER_DATA_BYTES + 1), "--", path.toString()), Map.of(), USER_DATA_BYTES + 1, TIMEOUT);
        if (!result.ok()) {
            throw new IOException(path.getFileName() + " cannot be read by you: " + result.text());
        }
        if (result.output().length > USER_DATA_BYTES) {
            throw new IOException(path.getFileName() + " is larger than " + (USER_DATA_BYTES >> 10) + " KiB; keep it"
                    + " under that (it is given to cloud-init as it is)");
        }
        return java.util.Optional.of(new String(result.output(), StandardCharsets.UTF_8));
    }

    /**
     * Makes {@code .seed/<vm>.iso} in {@code dir} with {@code metaData} and
     * {@code userData}, and {@code .seed/<vm>.inputs} holding {@code inputs}
     * (the hash the caller compares before asking again).
     */
    public static void seed(int uid, int gid, Path dir, String vm, String metaData, String userData, String inputs)
            throws IOException {
        // Few processes (a VM's first start waits for them): no directory of temporary files, genisoimage
        // names the files in the volume itself (-graft-points), umask 077 makes everything 0600.
        String script = "{ [ -d .seed ] || mkdir .seed; } && cd .seed || exit 1\n"
                + "m=\".$1.meta-data.$$\" u=\".$1.user-data.$$\" i=\".$1.iso.$$\"\n"
                + "printf '%s' \"$IEV_META\" > \"$m\" && printf '%s' \"$IEV_USER\" > \"$u\" &&"
                + " genisoimage -quiet -input-charset utf-8 -output \"$i\" -volid cidata -joliet -rock -graft-points"
                + " \"user-data=$u\" \"meta-data=$m\" && mv -f -- \"$i\" \"$1.iso\" && printf '%s\\n' \"$2\" > \"$1.inputs\"\n"
                + "rc=$?\nrm -f -- \"$m\" \"$u\" \"$i\"\nexit $rc\n";
        AsStudent.Result result = AsStudent.run(uid, gid, dir, script, List.of(vm, inputs),
                Map.of("IEV_META", metaData, "IEV_USER", userData), 4096, TIMEOUT);
        if (!result.ok()) {
            throw new IOException("the NoCloud seed could not be made: " + result.text());
        }
    }

    /**
     * The meta-data of a NoCloud seed: the instance id (the VM's UUID), its
     * host name (the VM's name) and the public keys, as YAML whose every
     * string is quoted (a key's comment is the student's text).
     */
    public static String metaData(String uuid, String hostname, List<String> keys) {
        StringBuilder y = new StringBuilder();
        y.append("instance-id: \"").append(uuid).append("\"\n");
        y.append("local-hostname: \"").append(hostname).append("\"\n");
        if (!keys.isEmpty()) {
            y.append("public-keys:\n");
            for (String key : keys) {
                y.append("  - \"").append(key.replace("\\", "\\\\").replace("\"", "\\\"")).append("\"\n");
            }
        }
        return y.toString();
    }
}
