package org.ievirsh.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.ievirsh.image.Inspections;
import org.ievirsh.image.guest.GuestInspector;
import org.ievirsh.image.guest.Sandbox;
import org.ievirsh.support.Commands;
import org.ievirsh.support.VagrantSecrets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * GuestInspectorIT looks inside real guest disks with libguestfs: Vagrant's
 * keys where sshd looks for them, its password in every hash a shadow file
 * holds, and a clean disk that passes; ext4 whole-disk and partitioned, and
 * XFS on LVM. The disks are looked at the way the
 * controller looks: as their owner (a real user), never as root.
 */
@EnabledIfSystemProperty(named = "ievirsh.e2e", matches = "true")
class GuestInspectorIT {

    private static final String STUDENT = "ievguest";
    private static final int UID = 41401;
    private static final Host HOST = new Host();

    @TempDir
    static Path tmp;
    static Path cache;

    @BeforeAll
    static void student() throws Exception {
        Host.openToAll(tmp);
        HOST.user(STUDENT, UID, Files.createDirectories(tmp.resolve("home")));
        cache = Host.INSPECTION_CACHE;
        // Built first, as the controller does at start: the disks below are made with libguestfs as root too.
        new Sandbox(cache, Inspections.backendSettings()).prepare();
    }

    @AfterAll
    static void removeStudent() {
        HOST.deleteUsers();
    }

    static Path insecureWholeDisk(Path tmp, Path qcow2) throws Exception {
        return GuestDisks.wholeDisk(GuestDisks.tree(tmp.resolve("tree-yescrypt"), Map.of(
                "etc/passwd", GuestDisks.PASSWD,
                "etc/shadow", "root:*:19000:0:99999:7:::\nvagrant:" + VagrantSecrets.YESCRYPT
                        + ":19000:0:99999:7:::\n",
                "etc/ssh/sshd_config", "PasswordAuthentication no\nAuthorizedKeysFile /etc/ssh/keys/%u\n",
                "etc/ssh/keys/vagrant", VagrantSecrets.RSA_KEY + "\n",
                "home/vagrant/.ssh/authorized_keys", VagrantSecrets.OTHER_KEY + "\n")), qcow2);
    }

    static Path cleanDisk(Path tmp, Path qcow2) throws Exception {
        return GuestDisks.wholeDisk(GuestDisks.tree(tmp.resolve("tree-clean"), Map.of(
                "etc/passwd", GuestDisks.PASSWD,
                "etc/shadow", "root:*:19000:0:99999:7:::\nvagrant:" + VagrantSecrets.YESCRYPT_OTHER
                        + ":19000:0:99999:7:::\n",
                "etc/ssh/sshd_config", "PasswordAuthentication yes\n",
                "home/vagrant/.ssh/authorized_keys", VagrantSecrets.OTHER_KEY + "\n",
                "root/.ssh/authorized_keys", "# " + VagrantSecrets.RSA_KEY + "\n")), qcow2);
    }

    /** Looks at a disk as the controller does: as the disk's owner, a student made for the test. */
    private static GuestInspector.Report inspect(Path disk) throws Exception {
        Commands.ok("chown", STUDENT + ":" + STUDENT, disk.toString());
        return new GuestInspector(new Sandbox(cache, Inspections.backendSettings())).inspect(disk.toString(),
                "qcow2", UID, UID, kill -> { });
    }

    private static CompletableFuture<GuestInspector.Report> async(Path disk) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return inspect(disk);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @Test
    void vagrantsKeysAndPasswordAreFoundOnEveryFilesystemAndACleanDiskPasses() throws Exception {
        Path root = GuestDisks.tree(tmp.resolve("tree-root"), Map.of(
                "etc/passwd", GuestDisks.PASSWD,
                "etc/shadow", "root::19000:0:99999:7:::\nvagrant:" + VagrantSecrets.SHA512 + ":19000:0:99999:7:::\n",
                "etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication no\n",
                "etc/ssh/sshd_config.d/50-vagrant.conf", "PasswordAuthentication yes\n",
                "root/.ssh/authorized_keys", "no-pty,command=\"echo a b\" " + VagrantSecrets.ED25519_KEY + "\n"));
        Path home = GuestDisks.tree(tmp.resolve("tree-home"), Map.of(
                "vagrant/.ssh/authorized_keys", VagrantSecrets.OTHER_KEY + "\n",
                "odd \"dir\"/.ssh/authorized_keys", VagrantSecrets.OTHER_KEY + "\n" + VagrantSecrets.RSA_KEY + "\n"));
        Path partitioned = GuestDisks.partitioned(root, home, tmp.resolve("partitioned.qcow2"));
        Path whole = insecureWholeDisk(tmp, tmp.resolve("yescrypt.qcow2"));
        Path clean = cleanDisk(tmp, tmp.resolve("clean.qcow2"));

        // Each look boots libguestfs' appliance (about 20 s): they run side by side. The LVM disk is made by
        // libguestfs too, so its look starts when it is made.
        CompletableFuture<GuestInspector.Report> lvm = CompletableFuture.supplyAsync(() -> {
            try {
                return inspect(GuestDisks.lvmXfs("/vagrant/.ssh/authorized_keys", "no-agent-forwarding "
                        + VagrantSecrets.ED25519_KEY + "\n", tmp.resolve("lvm-xfs.qcow2")));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        CompletableFuture<GuestInspector.Report> a = async(partitioned);
        CompletableFuture<GuestInspector.Report> b = async(whole);
        CompletableFuture<GuestInspector.Report> c = async(clean);

        String accepts = "; SSH accepts passwords (PasswordAuthentication yes in /etc/ssh/sshd_config)";
        assertEquals(List.of(
                "root has an empty password (/etc/shadow on /dev/sda1)" + accepts,
                "the account vagrant has the password \"vagrant\" (/etc/shadow on /dev/sda1)" + accepts,
                "Vagrant's insecure ED25519 key is in /root/.ssh/authorized_keys (on /dev/sda1)",
                "Vagrant's insecure RSA key is in /odd \"dir\"/.ssh/authorized_keys (on /dev/sda2)"),
                sorted(a.get().findings()));
        assertEquals(2, a.get().filesystems());
        assertEquals(List.of(
                "the account vagrant has the password \"vagrant\" (/etc/shadow on /dev/sda); SSH refuses passwords"
                        + " now, but the console and a later change do not",
                "Vagrant's insecure RSA key is in /etc/ssh/keys/vagrant (on /dev/sda)"), sorted(b.get().findings()));
        assertEquals(List.of(), c.get().findings());
        assertEquals(1, c.get().filesystems());
        assertEquals(List.of("Vagrant's insecure ED25519 key is in /vagrant/.ssh/authorized_keys (on /dev/VG/LV)"),
                lvm.get().findings());
    }

    /** Password findings first, then keys, as the inspector reports them; order within each kept. */
    private static List<String> sorted(List<String> findings) {
        return findings.stream().sorted((x, y) -> Boolean.compare(x.startsWith("Vagrant's"), y.startsWith("Vagrant's")))
                .toList();
    }
}
