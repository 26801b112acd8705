package org.ievirsh.image;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.logging.Logger;
import org.ievirsh.api.Parsed;
import org.ievirsh.api.v1.VirtualMachine;
import org.ievirsh.api.yaml.SafeYaml;
import org.ievirsh.api.yaml.YamlDocument;
import org.ievirsh.posix.FileStat;
import org.ievirsh.posix.Lstat;
import org.ievirsh.posix.OpenFile;
import org.ievirsh.posix.PosixException;
import org.ievirsh.posix.SafeDir;

/**
 * BaseImages is the admin's catalog of base images, {@code <root>/<name>.qcow2}
 * (the README's "Base images"): read again whenever the directory changes,
 * each file judged as a VM's disk would be, and more strictly, since every
 * student's overlay reads it: a regular file (no symbolic link anywhere in
 * its path), root's, writable by no one else, readable by everyone (the
 * students' QEMU reads it), in directories that no one but root can write,
 * up to {@code /} (as sshd's StrictModes wants of a key file), qcow2 with no
 * backing file and no external data file. Its optional descriptor
 * {@code <name>.yaml} says {@code description}, {@code firstBoot}
 * ({@code cloud-init} or {@code none}) and {@code user} (the login
 * {@code ie-virsh ssh} uses).
 *
 * <p>Reading only: what a base's content is (its look inside, whether it
 * changed since VMs began to use it) the planner decides from these facts.
 */
public final class BaseImages {
    private static final Logger LOG = Logger.getLogger(BaseImages.class.getName());
    /** DESCRIPTOR_BYTES bounds a descriptor: a few lines. */
    static final int DESCRIPTOR_BYTES = 16 * 1024;

    /** Descriptor is what the admin says of a base beside it. */
    public record Descriptor(String description, VirtualMachine.FirstBoot firstBoot, Optional<String> user) {
        public static final Descriptor NONE = new Descriptor("", VirtualMachine.FirstBoot.NONE, Optional.empty());
    }

    /**
     * Base is one file of the catalog: its path, its content version (device,
     * inode, size, modification time: what "the same file" means), its
     * virtual size, its descriptor, and why it serves no VM when it does not.
     */
    public record Base(String name, Path path, String version, long virtualSize, Descriptor descriptor,
                       Optional<String> rejected) {
        public boolean ready() {
            return rejected.isEmpty();
        }
    }

    private final Optional<Path> root;
    private volatile Map<String, Base> bases = Map.of();
    private volatile String seen = "";
    private volatile Optional<String> rootProblem = Optional.empty();
    private final java.util.concurrent.atomic.AtomicLong generation = new java.util.concurrent.atomic.AtomicLong();

    public BaseImages(Optional<Path> root) {
        this.root = root.map(p -> p.toAbsolutePath().normalize());
    }

    /** The directory of the bases; empty: the admin keeps none. */
    public Optional<Path> root() {
        return root;
    }

    /** A number that moves whenever the catalog changed (a base added, gone, changed, or judged otherwise). */
    public long generation() {
        return generation.get();
    }

    /** The base called {@code name}, as the catalog was last read; empty when there is no such file. */
    public Optional<Base> find(String name) {
        return Optional.ofNullable(bases.get(name));
    }

    /** Every base, ready or not, by name. */
    public Map<String, Base> all() {
        return bases;
    }

    /** Why the directory itself serves no base, when it does not. */
    public Optional<String> rootProblem() {
        return rootProblem;
    }

    /** True when {@code backing} (as an overlay's header names it) is the path of a ready base. */
    public boolean isReadyBase(String backing) {
        for (Base base : bases.values()) {
            if (base.ready() && base.path().toString().equals(backing)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Reads the catalog again if its directory changed since the last read
     * (or a file in it: the directory's stat and each base's together); cheap
     * otherwise. Returns true when something changed.
     */
    public synchronized boolean refresh() {
        if (root.isEmpty()) {
            return false;
        }
        Map<String, Base> fresh = new TreeMap<>();
        Optional<String> problem = unsafeDirectory(root.get());
        StringBuilder fingerprint = new StringBuilder(problem.orElse(""));
        if (problem.isEmpty()) {
            try (SafeDir dir = SafeDir.openTrusted(root.get())) {
                fingerprint.append(dir.stat().version());
                for (SafeDir.Entry entry : dir.list()) {
                    String file = entry.name();
                    if (!file.endsWith(".qcow2")) {
                        continue;
                    }
                    String name = file.substring(0, file.length() - ".qcow2".length());
                    Base base = judge(dir, name);
                    fresh.put(name, base);
                    fingerprint.append('|').append(name).append('@').append(base.version())
                            .append(base.rejected().orElse(""));
                }
            } catch (PosixException e) {
                problem = Optional.of("cannot read " + root.get() + ": " + e.getMessage());
            }
        }
        String now = fingerprint.toString();
        if (now.equals(seen)) {
            return false;
        }
        seen = now;
        bases = Map.copyOf(fresh);
        rootProblem = problem;
        generation.incrementAndGet();
        problem.ifPresent(p -> LOG.warning("base images: " + p + "; no VM is made from a base until it is fixed"));
        fresh.values().stream().filter(b -> !b.ready())
                .forEach(b -> LOG.warning("base image " + b.name() + ": " + b.rejected().get()));
        return true;
    }

    /** Why a directory may not hold bases: it, or one above it, is a link, or not root's alone to write. */
    static Optional<String> unsafeDirectory(Path dir) {
        for (Path p = dir; p != null; p = p.getParent()) {
            Optional<FileStat> stat;
            try {
                stat = new Lstat(p).now();
            } catch (PosixException e) {
                return Optional.of("cannot read " + p + ": " + e.getMessage());
            }
            if (stat.isEmpty()) {
                return Optional.of(p + " does not exist");
            }
            if (stat.get().type() == FileStat.Type.SYMLINK) {
                return Optional.of(p + " is a symbolic link; base images must be reached without any");
            }
            if (!stat.get().isDirectory()) {
                return Optional.of(p + " is not a directory");
            }
            if (stat.get().uid() != 0 || (stat.get().mode() & 022) != 0) {
                return Optional.of(p + " (uid " + stat.get().uid() + ", mode " + String.format("%04o", stat.get().mode())
                        + ") can be written by someone other than root, who could then replace a base every"
                        + " student's disk reads: chown root and chmod go-w it");
            }
        }
        return Optional.empty();
    }

    private Base judge(SafeDir dir, String name) {
        Path path = root.get().resolve(name + ".qcow2");
        if (!VirtualMachine.isValidName(name)) {
            return rejected(name, path, "", "its name is not one a VM file can ask for (lower-case letters, digits"
                    + " and '-', at most 32)");
        }
        OpenFile file;
        try {
            file = dir.open(name + ".qcow2");
        } catch (PosixException e) {
            return rejected(name, path, "", e.isSymlinkRefused() ? "it is a symbolic link; put the file itself there"
                    : "cannot open it: " + e.getMessage());
        }
        if (file == null) {
            return rejected(name, path, "", "it went while being read");
        }
        try (file) {
            FileStat stat = file.stat();
            String version = stat.contentVersion();
            if (!stat.isRegular()) {
                return rejected(name, path, version, "it is not a regular file");
            }
            if (stat.uid() != 0 || (stat.mode() & 022) != 0) {
                return rejected(name, path, version, "it must be root's and written by no one else (uid "
                        + stat.uid() + ", mode " + String.format("%04o", stat.mode()) + "): chown root and chmod go-w");
            }
            if ((stat.mode() & 004) == 0) {
                return rejected(name, path, version, "the students' QEMU reads it, as them: chmod a+r it");
            }
            byte[] head = file.readAt(0, (int) Math.min(stat.size(), Qcow2Header.FIRST_READ));
            int needed = Qcow2Header.bytesNeeded(head);
            if (needed > head.length && stat.size() > head.length) {
                head = file.readAt(0, (int) Math.min(stat.size(), needed));
            }
            Optional<Qcow2Header.Refusal> refusal = Qcow2Header.refusal(head);
            if (refusal.isPresent()) {
                return rejected(name, path, version, refusal.get().message() + (refusal.get().reason()
                        .equals("BackingFile") ? " (a base's chain ends with it)" : ""));
            }
            Parsed<Descriptor> descriptor = descriptor(dir, name);
            if (!descriptor.isOk()) {
                return rejected(name, path, version, "its descriptor " + name + ".yaml: "
                        + descriptor.problems().get(0));
            }
            return new Base(name, path, version, Qcow2Header.virtualSize(head), descriptor.orThrow(),
                    Optional.empty());
        } catch (PosixException e) {
            return rejected(name, path, "", "cannot read it: " + e.getMessage());
        }
    }

    private static Base rejected(String name, Path path, String version, String why) {
        return new Base(name, path, version, -1, Descriptor.NONE, Optional.of(why));
    }

    /** The descriptor beside a base: none is fine; one that is there must read. */
    static Parsed<Descriptor> descriptor(SafeDir dir, String name) throws PosixException {
        Optional<SafeDir.Contents> contents;
        try {
            contents = dir.read(name + ".yaml", DESCRIPTOR_BYTES);
        } catch (PosixException e) {
            if (e.isSymlinkRefused()) {
                return Parsed.failed(org.ievirsh.api.Problem.ofFile(name + ".yaml", "is a symbolic link"));
            }
            throw e;
        }
        if (contents.isEmpty()) {
            return Parsed.ok(Descriptor.NONE);
        }
        FileStat stat = contents.get().stat();
        if (stat.uid() != 0 || (stat.mode() & 022) != 0) {
            return Parsed.failed(org.ievirsh.api.Problem.ofFile(name + ".yaml", "must be root's and written by no"
                    + " one else"));
        }
        if (contents.get().bytes() == null) {
            return Parsed.failed(org.ievirsh.api.Problem.ofFile(name + ".yaml", "is not a regular file of at most "
                    + DESCRIPTOR_BYTES + " bytes"));
        }
        return parseDescriptor(name + ".yaml", contents.get().bytes());
    }

    /** A descriptor's text: {@code description}, {@code firstBoot}, {@code user}, nothing else. */
    public static Parsed<Descriptor> parseDescriptor(String file, byte[] bytes) {
        if (new String(bytes, java.nio.charset.StandardCharsets.UTF_8).isBlank()) {
            return Parsed.ok(Descriptor.NONE);
        }
        Parsed<YamlDocument> yaml = SafeYaml.parse(file, bytes);
        if (!yaml.isOk()) {
            return yaml.asFailed();
        }
        var root = yaml.orThrow().root();
        if (root.isNull() || root.isMissingNode()) {
            return Parsed.ok(Descriptor.NONE);
        }
        if (!root.isObject()) {
            return Parsed.failed(org.ievirsh.api.Problem.ofFile(file, "holds description, firstBoot and user"));
        }
        List<String> unknown = new ArrayList<>();
        root.fieldNames().forEachRemaining(f -> {
            if (!List.of("description", "firstBoot", "user").contains(f)) {
                unknown.add(f);
            }
        });
        if (!unknown.isEmpty()) {
            return Parsed.failed(org.ievirsh.api.Problem.ofFile(file, "unknown fields " + unknown
                    + "; it holds description, firstBoot and user"));
        }
        String description = root.path("description").asText("");
        String firstBoot = root.path("firstBoot").asText("none");
        String user = root.path("user").asText("");
        if (description.length() > 256 || description.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            return Parsed.failed(org.ievirsh.api.Problem.ofFile(file, "description: at most 256 characters, no"
                    + " control characters"));
        }
        if (!firstBoot.equals("cloud-init") && !firstBoot.equals("none")) {
            return Parsed.failed(org.ievirsh.api.Problem.ofFile(file, "firstBoot: cloud-init or none, not "
                    + SafeYaml.quote(firstBoot)));
        }
        if (!user.isEmpty() && !user.matches("[a-z_][a-z0-9_-]{0,31}")) {
            return Parsed.failed(org.ievirsh.api.Problem.ofFile(file, "user: a login name (lower-case letters,"
                    + " digits, '_' and '-'), not " + SafeYaml.quote(user)));
        }
        return Parsed.ok(new Descriptor(description, VirtualMachine.FirstBoot.of(firstBoot),
                user.isEmpty() ? Optional.empty() : Optional.of(user)));
    }

    /**
     * The bases by state, for {@code ievirsh_base_images{state}}, each base in
     * one: {@code changed} (a VM's disk was made from another file of that
     * name, or from one that is gone: {@code changed} names them), else
     * {@code rejected} (it breaks a rule of the catalog), {@code insecure}
     * (its look inside found what is refused), or {@code ready}.
     */
    public Map<String, Integer> counts(Set<String> changed, Predicate<Base> insecure) {
        Map<String, Integer> counts = new TreeMap<>(Map.of("ready", 0, "rejected", 0, "insecure", 0, "changed", 0));
        Map<String, Base> now = bases;
        now.values().forEach(b -> counts.merge(changed.contains(b.name()) ? "changed" : !b.ready() ? "rejected"
                : insecure.test(b) ? "insecure" : "ready", 1, Integer::sum));
        changed.stream().filter(name -> !now.containsKey(name)).forEach(name -> counts.merge("changed", 1, Integer::sum));
        return counts;
    }
}
