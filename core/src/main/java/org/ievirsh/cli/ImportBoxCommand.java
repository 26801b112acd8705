package org.ievirsh.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.image.BoxImporter;
import org.ievirsh.posix.Nss;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** ImportBoxCommand turns a Vagrant box into a qcow2 image in the student's image directory, as the student. */
@Command(name = "import-box", mixinStandardHelpOptions = true,
        header = "Convert a Vagrant box into a standalone qcow2 in your image directory.",
        description = {"Convert a Vagrant box (VirtualBox or libvirt provider; tar or tar.gz) into a standalone qcow2",
                "in your image directory. It runs as you, never as root: a box is an archive from the internet.",
                "Links, devices, sparse entries, '..' and absolute names, text VMDKs and disks with a parent or a",
                "backing file are refused, and nothing is written then."},
        footer = {"", "Example:", "  ie-virsh import-box ~/Downloads/debian12.box --image web.qcow2",
                "  ie-virsh define web --image web.qcow2 --halted",
                "", "Exit codes: 0 imported, 1 refused or failed (the message says why), 2 wrong usage."})
final class ImportBoxCommand implements Callable<Integer> {
    static final long MEMORY_LIMIT = 2L << 30;
    static final Duration CPU_LIMIT = Duration.ofHours(1);

    @Mixin
    StudentOptions options;

    @Parameters(paramLabel = "BOX", description = "The .box file.")
    Path box;

    @Option(names = "--image", paramLabel = "NAME.qcow2", description = "The image's name (default: the box's name).")
    String image;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (Nss.effectiveUid() == 0) {
            System.err.println("ie-virsh: run import-box as yourself, not as root: it unpacks an archive from the"
                    + " internet, with the least rights there are");
            return 1;
        }
        Optional<ControllerConfig> config = options.adminConfig();
        if (config.isEmpty()) {
            System.err.println("ie-virsh: cannot read the admin's config " + options.config
                    + "; it says where your image directory is");
            return 1;
        }
        String user = StudentOptions.self().getUsername();
        Path imageDir = config.get().images().root().resolve(user);
        String name = image != null ? image : defaultName(box);
        BoxImporter importer = new BoxImporter(config.get().images().boxEntryLimit(), MEMORY_LIMIT, CPU_LIMIT);
        try {
            BoxImporter.Imported imported = importer.importBox(box, imageDir, name,
                    System.console() != null ? System.out : null);
            System.out.println("imported " + box.getFileName() + " (" + imported.provider() + " box) as "
                    + imported.image());
            System.out.println(warning(imported.image(), config.get().images().inspection().equals("enforce")));
            System.out.println("next: ie-virsh define " + vmName(name) + " --image " + name + " --halted");
            return 0;
        } catch (BoxImporter.Refused e) {
            System.err.println("ie-virsh: " + box.getFileName() + ": " + e.getMessage() + "; nothing was written");
            return 1;
        }
    }

    /** What a student must do before a Vagrant image is exposed to the network. */
    static String warning(Path image, boolean enforced) {
        return "WARNING: a Vagrant box almost always has the account \"vagrant\" with the password \"vagrant\", and"
                + " Vagrant's\npublished insecure SSH key in /home/vagrant/.ssh/authorized_keys. Your VM gets a"
                + " global IP and\nwould be taken over within hours. Before you start it, remove both, for example:\n"
                + "  virt-customize -a " + image + " --password vagrant:disabled \\\n"
                + "      --delete /home/vagrant/.ssh/authorized_keys --delete /root/.ssh/authorized_keys\n"
                + "(virt-customize is in Debian's libguestfs-tools)." + (enforced ? " The controller looks inside the"
                + " image before its VM\nstarts and refuses it while either is there (phase ImageRejected, reason"
                + " InsecureImage)." : "");
    }

    private static String defaultName(Path box) {
        String base = box.getFileName().toString().replaceAll("\\.(box|tar\\.gz|tgz|tar)$", "");
        base = base.replaceAll("[^A-Za-z0-9._-]", "-");
        return (base.isEmpty() || !Character.isLetterOrDigit(base.charAt(0)) ? "box" : base) + ".qcow2";
    }

    private static String vmName(String image) {
        String name = image.replaceAll("\\.qcow2$", "").toLowerCase().replaceAll("[^a-z0-9-]", "-")
                .replaceAll("^-+|-+$", "");
        return name.isEmpty() ? "vm" : name.length() > 32 ? name.substring(0, 32).replaceAll("-+$", "") : name;
    }
}
