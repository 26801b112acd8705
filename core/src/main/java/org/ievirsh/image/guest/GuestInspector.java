package org.ievirsh.image.guest;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * GuestInspector looks inside a disk image, read-only, for what makes a
 * Vagrant image an open door on the department network: Vagrant's insecure
 * public keys in any {@code authorized_keys} (every home, root's, and the
 * files {@code sshd_config} names), an account whose password is
 * {@code vagrant}, root with an empty password, and whether SSH accepts
 * passwords. It lists the filesystems and mounts each read-only in turn,
 * with no guess at the operating system, so ext4, XFS and LVM guests all
 * work.
 */
public final class GuestInspector {
    /** A file larger than this is not read whole (keys are searched in it instead). */
    static final long MAX_TEXT = 1 << 20;
    /** At most this many key files are searched per filesystem (and five times as many names tried). */
    static final int MAX_KEY_FILES = 2000;

    private final Sandbox sandbox;

    /** An inspector whose looks run in {@code sandbox}, with the rights of each image's owner. */
    public GuestInspector(Sandbox sandbox) {
        this.sandbox = sandbox;
    }

    /** Gets the sandbox ready (its appliance built), so that the first look need not wait for it. */
    public void prepare() throws IOException {
        sandbox.prepare();
    }

    /** What was found, or why nothing could be. */
    public record Report(List<String> findings, int filesystems) {
        public boolean insecure() {
            return !findings.isEmpty();
        }
    }

    /** An account of the guest's /etc/passwd. */
    private record Account(String user, String uid, String home) {
    }

    /**
     * Inspects {@code drive} (the image's path, opened by guestfish as
     * {@code uid}:{@code gid}, its owner) in {@code format} (qcow2 or raw:
     * never probed). {@code killSwitch} receives what kills the look, for a
     * caller's timeout.
     */
    public Report inspect(String drive, String format, int uid, int gid, Consumer<Runnable> killSwitch)
            throws IOException {
        try (Guestfish g = Guestfish.start(sandbox, uid, gid)) {
            killSwitch.accept(g::kill);
            g.call("add-drive-opts", drive, "readonly:true", "format:" + format);
            g.call("run");
            if (g.call("list-devices").isEmpty()) {
                throw new IOException("libguestfs could not open the disk: " + g.lastErrors());
            }
            List<String> filesystems = new ArrayList<>();
            for (String line : g.call("list-filesystems")) {
                int colon = line.lastIndexOf(": ");
                if (colon <= 0) {
                    continue;
                }
                String type = line.substring(colon + 2).strip();
                if (!type.equals("swap") && !type.equals("unknown") && !type.isEmpty()) {
                    filesystems.add(line.substring(0, colon));
                }
            }
            List<String> findings = new ArrayList<>();
            List<Account> accounts = new ArrayList<>();
            List<String> keyPatterns = new ArrayList<>();
            boolean passwordsAccepted = true;
            String passwordSource = "PasswordAuthentication is not set, and OpenSSH's default is yes";
            List<String> weak = new ArrayList<>();
            // First the system files (on the root filesystem, wherever it is), then every key file.
            for (String fs : filesystems) {
                if (!mount(g, fs)) {
                    continue;
                }
                if (isFile(g, "/etc/passwd")) {
                    for (String line : text(g, "/etc/passwd", fs, findings).split("\n")) {
                        String[] f = line.split(":", -1);
                        if (f.length >= 6 && !f[0].isEmpty() && f[5].startsWith("/")) {
                            accounts.add(new Account(f[0], f[2], f[5]));
                        }
                    }
                }
                if (isFile(g, "/etc/shadow")) {
                    for (String account : ShadowCheck.weakAccounts(text(g, "/etc/shadow", fs, findings))) {
                        weak.add(account + " (/etc/shadow on " + fs + ")");
                    }
                }
                if (isFile(g, "/etc/ssh/sshd_config")) {
                    List<SshdConfig.Line> lines = new ArrayList<>();
                    readSshd(g, "/etc/ssh/sshd_config", fs, findings, lines, 0);
                    SshdConfig sshd = SshdConfig.effective(lines);
                    keyPatterns.addAll(sshd.authorizedKeysFiles());
                    passwordsAccepted = sshd.acceptsPasswords();
                    passwordSource = sshd.passwordAuthentication().isPresent()
                            ? "PasswordAuthentication " + (passwordsAccepted ? "yes" : "no") + " in /etc/ssh/sshd_config"
                            : passwordSource;
                }
                g.call("umount-all");
            }
            for (String account : weak) {
                findings.add(account + (passwordsAccepted ? "; SSH accepts passwords (" + passwordSource + ")"
                        : "; SSH refuses passwords now, but the console and a later change do not"));
            }
            for (String fs : filesystems) {
                if (!mount(g, fs)) {
                    continue;
                }
                for (String file : keyFiles(g, accounts, keyPatterns, fs, findings)) {
                    for (String key : keysIn(g, file)) {
                        findings.add(key + " is in " + ShadowCheck.printable(file) + " (on " + fs + ")");
                    }
                }
                g.call("umount-all");
            }
            return new Report(List.copyOf(new LinkedHashSet<>(findings)), filesystems.size());
        }
    }

    private static boolean mount(Guestfish g, String fs) throws IOException {
        g.call("umount-all");
        g.call("mount-ro", fs, "/");
        return !g.call("mountpoints").isEmpty();
    }

    private static boolean isFile(Guestfish g, String path) throws IOException {
        return g.call("is-file-opts", path, "followsymlinks:true").contains("true");
    }

    /** A small text file of the guest; a large one is a finding of its own (it cannot be checked). */
    private static String text(Guestfish g, String path, String fs, List<String> findings) throws IOException {
        List<String> size = g.call("filesize", path);
        if (size.size() != 1 || !size.get(0).matches("\\d{1,18}")) {
            return "";
        }
        if (Long.parseLong(size.get(0)) > MAX_TEXT) {
            findings.add(path + " on " + fs + " is larger than " + (MAX_TEXT >> 20) + " MiB and was not checked");
            return "";
        }
        return String.join("\n", g.call("cat", path));
    }

    private static void readSshd(Guestfish g, String path, String fs, List<String> findings,
                                 List<SshdConfig.Line> into, int depth) throws IOException {
        for (SshdConfig.Line line : SshdConfig.parse(text(g, path, fs, findings)).lines()) {
            if (!line.keyword().equals("include") || depth >= 4) {
                into.add(line);
                continue;
            }
            for (String pattern : line.values()) {
                String absolute = pattern.startsWith("/") ? pattern : "/etc/ssh/" + pattern;
                for (String included : glob(g, absolute)) {
                    if (isFile(g, included)) {
                        readSshd(g, included, fs, findings, into, depth + 1);
                    }
                }
            }
        }
    }

    /**
     * Every authorized_keys file that may let someone in on this filesystem:
     * sshd's patterns for every account, every home under {@code /home} and
     * at the top (a separate {@code /home}), and root's.
     */
    private static Set<String> keyFiles(Guestfish g, List<Account> accounts, List<String> patterns, String fs,
                                        List<String> findings) throws IOException {
        Set<String> candidates = new LinkedHashSet<>();
        List<String> all = new ArrayList<>(patterns);
        all.add(".ssh/authorized_keys");
        all.add(".ssh/authorized_keys2");
        for (Account a : accounts) {
            for (String pattern : all) {
                candidates.add(SshdConfig.expand(pattern, a.user(), a.home(), a.uid()));
            }
        }
        for (String pattern : List.of("/root/.ssh/authorized_keys*", "/home/*/.ssh/authorized_keys*",
                "/*/.ssh/authorized_keys*", "/home/*/*/.ssh/authorized_keys*")) {
            candidates.addAll(glob(g, pattern));
        }
        Set<String> files = new LinkedHashSet<>();
        int looked = 0;
        for (String candidate : candidates) {
            if (!candidate.startsWith("/")) {
                findings.add("a key file with an unusual name could not be checked: "
                        + ShadowCheck.printable(candidate) + " (on " + fs + ")");
            } else if (files.size() >= MAX_KEY_FILES || ++looked > MAX_KEY_FILES * 5) {
                findings.add("more than " + MAX_KEY_FILES + " possible key files on " + fs
                        + "; the rest were not checked");
                break;
            } else if (isFile(g, candidate)) {
                files.add(candidate);
            }
        }
        return files;
    }

    private static List<String> glob(Guestfish g, String pattern) throws IOException {
        return g.call("glob-expand", pattern);
    }

    /** Vagrant's keys in one file: searched for by their data, so the file's size does not matter. */
    private static List<String> keysIn(Guestfish g, String file) throws IOException {
        List<String> found = new ArrayList<>();
        for (String data : VagrantKeys.INSECURE.keySet()) {
            List<String> lines = g.call("grep-opts", data, file, "fixed:true");
            for (String key : VagrantKeys.foundIn(String.join("\n", lines))) {
                if (!found.contains(key)) {
                    found.add(key);
                }
            }
        }
        return found;
    }
}
