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
 *   <li>the student's public keys: their {@code ~/.ssh/authorized_keys} read
 *       as them (a link to a file they cannot read reads nothing), at most
 *       {@link #KEYS_BYTES}, and only the lines that are keys kept.</li>
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

    /**
     * The key lines of the student's {@code ~/.ssh/authorized_keys}, read as
     * them from {@code home}: only lines that are public keys (type, data,
     * comment), no options, nothing else.
     */
    public static List<String> publicKeys(int uid, int gid, Path home) throws IOException {
        AsStudent.Result result = AsStudent.run(uid, gid, Path.of("/"),
                "head -c " + (KEYS_BYTES + 1) + " -- \"$1/.ssh/authorized_keys\" 2>/dev/null; exit 0",
                List.of(home.toString()), Map.of(), KEYS_BYTES + 1, TIMEOUT);
        byte[] bytes = result.output();
        String text = new String(bytes, 0, Math.min(bytes.length, KEYS_BYTES), StandardCharsets.UTF_8);
        List<String> keys = new ArrayList<>();
        for (String line : text.split("\n")) {
            String key = line.strip();
            if (KEY.matcher(key).matches() && keys.size() < 256) {
                keys.add(key);
            }
        }
        return keys;
    }

    /** USER_DATA_BYTES bounds a student's user-data file. */
    public static final int USER_DATA_BYTES = 64 * 1024;

    /**
     * The student's {@code <vm>.user-data} at {@code path}, read as them when
     * it is a regular file of theirs (not a link, not another's); empty when
     * there is none. Over {@link #USER_DATA_BYTES} it is refused with a message.
     */
    public static java.util.Optional<String> userData(int uid, int gid, Path path) throws IOException {
        AsStudent.Result result = AsStudent.run(uid, gid, Path.of("/"),
                "[ -f \"$1\" ] && [ ! -L \"$1\" ] && [ -O \"$1\" ] || exit 3\nhead -c " + (USER_DATA_BYTES + 1)
                        + " -- \"$1\"", List.of(path.toString()), Map.of(), USER_DATA_BYTES + 1, TIMEOUT);
        if (result.code() == 3) {
            return java.util.Optional.empty();
        }
        if (!result.ok()) {
            throw new IOException(path.getFileName() + " cannot be read: " + result.text());
        }
        if (result.output().length > USER_DATA_BYTES) {
            throw new IOException(path.getFileName() + " is larger than " + (USER_DATA_BYTES >> 10) + " KiB; keep it"
                    + " under that (it is given to cloud-init as it is)");
        }
        return java.util.Optional.of(new String(result.output(), StandardCharsets.UTF_8));
    }

    /** True for a line {@link #publicKeys} keeps. */
    static boolean isKeyLine(String line) {
        return KEY.matcher(line).matches();
    }

    /**
     * Makes {@code .seed/<vm>.iso} in {@code dir} with {@code metaData} and
     * {@code userData}, and {@code .seed/<vm>.inputs} holding {@code inputs}
     * (the hash the caller compares before asking again).
     */
    public static void seed(int uid, int gid, Path dir, String vm, String metaData, String userData, String inputs)
            throws IOException {
        String script = "mkdir -p .seed && cd .seed || exit 1\n"
                + "d=$(mktemp -d \".$1.XXXXXX\") || exit 1\n"
                + "printf '%s' \"$IEV_META\" > \"$d/meta-data\" && printf '%s' \"$IEV_USER\" > \"$d/user-data\" &&"
                + " genisoimage -quiet -input-charset utf-8 -output \"$d/seed.iso\" -volid cidata -joliet -rock"
                + " \"$d/user-data\" \"$d/meta-data\" && chmod 600 \"$d/seed.iso\" && mv -f -- \"$d/seed.iso\" \"$1.iso\""
                + " && printf '%s\\n' \"$2\" > \"$d/inputs\" && mv -f -- \"$d/inputs\" \"$1.inputs\"\n"
                + "rc=$?\nrm -rf -- \"$d\"\nexit $rc\n";
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
