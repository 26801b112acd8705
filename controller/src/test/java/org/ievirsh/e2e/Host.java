package org.ievirsh.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.ievirsh.support.Commands;
import org.ievirsh.support.Repo;

/**
 * Host is this machine as the end-to-end tests use it: real POSIX users
 * (made with useradd, removed afterwards), real qcow2 images (qemu-img),
 * and the system libvirtd that ./dev test started (checked with virsh).
 */
final class Host {
    static final String SYSTEM = "qemu:///system";
    /** Where the end-to-end tests' looks keep libguestfs' appliance: built once per run, removed by ./dev test. */
    static final Path INSPECTION_CACHE = Path.of("/tmp/ie-virsh-test-inspection");

    private final List<String> users = new ArrayList<>();
    private final List<String> groups = new ArrayList<>();

    /** Makes (again) a user with a home under {@code homes}; its uid is {@code uid}. */
    String user(String name, int uid, Path homes) throws IOException {
        deleteUser(name);
        Path home = homes.resolve(name);
        Commands.ok("useradd", "-M", "-u", Integer.toString(uid), "-d", home.toString(), "-s", "/bin/sh", name);
        users.add(name);
        Files.createDirectories(home.resolve("ie-virsh"));
        Commands.ok("chown", "-R", name + ":" + name, home.toString());
        return name;
    }

    /**
     * Lets every user enter {@code dir} and the directories above it (a
     * JUnit temporary directory is its creator's alone): the students' QEMU
     * runs as the student, and must reach the images below it.
     */
    static Path openToAll(Path dir) throws IOException {
        for (Path p = dir.toAbsolutePath(); p != null && !p.equals(Path.of("/tmp")) && p.getParent() != null;
             p = p.getParent()) {
            Commands.ok("chmod", "a+x", p.toString());
        }
        return dir;
    }

    /** Makes a qcow2 image owned by {@code user}. */
    static Path image(Path dir, String user, String name, String... options) throws IOException {
        Files.createDirectories(dir);
        Commands.ok("chown", user + ":" + user, dir.toString());
        Path image = dir.resolve(name);
        List<String> command = new ArrayList<>(List.of("qemu-img", "create", "-q", "-f", "qcow2"));
        command.addAll(List.of(options));
        command.addAll(List.of(image.toString(), "64M"));
        Commands.ok(command.toArray(String[]::new));
        Commands.ok("chown", user + ":" + user, image.toString());
        return image;
    }

    /** Writes a file as {@code user} would (owned by them). */
    static Path write(Path file, String user, String text) throws IOException {
        Path temporary = file.resolveSibling("." + file.getFileName() + ".tmp");
        Files.writeString(temporary, text);
        Commands.ok("chown", user + ":" + user, temporary.toString());
        Files.move(temporary, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return file;
    }

    /**
     * The hypervisor type the tests' domains get: kvm, unless the run says
     * TCG was meant ({@code -Dievirsh.tcg=true}); without /dev/kvm and that
     * flag, the tests fail rather than pass on emulation unnoticed.
     */
    static String domainType() {
        if (Boolean.getBoolean("ievirsh.tcg")) {
            return "qemu";
        }
        org.junit.jupiter.api.Assertions.assertTrue(Files.exists(Path.of("/dev/kvm")), "this machine has no"
                + " /dev/kvm: the end-to-end tests run real KVM guests; run them with -Dievirsh.tcg=true if TCG is"
                + " meant");
        return "kvm";
    }

    /** The repository's templates, with the tests' domain type (see {@link #domainType}). */
    static Path templates(Path dir) throws IOException {
        Files.createDirectories(dir);
        boolean kvm = domainType().equals("kvm");
        for (String name : List.of("standard", "small")) {
            String xml = Files.readString(Repo.path("templates/" + name + ".xml"));
            Files.writeString(dir.resolve(name + ".xml"), kvm ? xml : xml.replace("type='kvm'", "type='qemu'"));
        }
        return dir;
    }

    /** Where .ci/guest.sh builds the tests' guest OS (the host's kernel, a busybox initramfs with qemu-ga). */
    static final Path GUEST = Path.of("/tmp/ie-virsh-guest");

    /**
     * Builds the real guest (once; .ci/guest.sh keeps it while its inputs
     * are older) and writes template "guest": it boots that kernel and
     * initramfs under TCG (a KVM guest's kernel hangs in its decompressor on
     * these machines), with the shipped templates' serial console and agent
     * channel, 192 MiB.
     */
    static Path guestTemplate(Path dir) throws IOException {
        Commands.ok("bash", Repo.path(".ci/guest.sh").toString(), GUEST.toString());
        Files.createDirectories(dir);
        String xml = Files.readString(Repo.path("templates/small.xml"))
                .replace("type='kvm'", "type='qemu'")
                .replace("<memory unit='MiB'>512</memory>", "<memory unit='MiB'>192</memory>")
                .replace("<currentMemory unit='MiB'>512</currentMemory>", "<currentMemory unit='MiB'>192</currentMemory>")
                .replace("<boot dev='hd'/>", "<kernel>" + GUEST.resolve("vmlinuz") + "</kernel><initrd>"
                        + GUEST.resolve("initrd.img") + "</initrd><cmdline>console=ttyS0 quiet</cmdline>");
        Files.writeString(dir.resolve("guest.xml"), xml);
        return dir;
    }

    /** The URI of a blade in a network namespace, as ./dev test passes it (.ci/blades.sh made the blade). */
    static String bladeUri(String property) {
        String uri = System.getProperty(property, "");
        org.junit.jupiter.api.Assertions.assertFalse(uri.isEmpty(), "-D" + property + " names no blade: run ./dev test");
        return uri;
    }

    static String virsh(String... args) {
        List<String> command = new ArrayList<>(List.of("virsh", "-q", "-c", SYSTEM));
        command.addAll(List.of(args));
        return Commands.ok(command.toArray(String[]::new)).strip();
    }

    static String state(String domain) {
        Commands.Result result = Commands.run(List.of("virsh", "-q", "-c", SYSTEM, "domstate", domain));
        return result.code() == 0 ? result.output().strip() : "absent";
    }

    /** Removes every domain whose name starts with {@code prefix} (what a test left behind). */
    static void removeDomains(String prefix) {
        for (String name : Commands.run(List.of("virsh", "-q", "-c", SYSTEM, "list", "--all", "--name")).output()
                .split("\n")) {
            if (!name.isBlank() && name.strip().startsWith(prefix)) {
                Commands.run(List.of("virsh", "-q", "-c", SYSTEM, "destroy", name.strip()));
                Commands.run(List.of("virsh", "-q", "-c", SYSTEM, "undefine", name.strip(), "--nvram"));
                Commands.run(List.of("virsh", "-q", "-c", SYSTEM, "undefine", name.strip()));
            }
        }
    }

    /** Makes (again) a POSIX group {@code name} with gid {@code gid} and {@code members}. */
    String group(String name, int gid, String... members) {
        Commands.run(List.of("groupdel", name));
        Commands.ok("groupadd", "-g", Integer.toString(gid), name);
        groups.add(name);
        for (String member : members) {
            Commands.ok("gpasswd", "-a", member, name);
        }
        return name;
    }

    void deleteUsers() {
        users.forEach(Host::deleteUser);
        users.clear();
        groups.forEach(g -> Commands.run(List.of("groupdel", g)));
        groups.clear();
    }

    private static void deleteUser(String name) {
        Commands.run(List.of("userdel", name));
    }
}
