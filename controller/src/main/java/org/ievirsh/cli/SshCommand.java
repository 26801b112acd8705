package org.ievirsh.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.VmStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** SshCommand runs {@code ssh ARGS... IP} with the address the VM's status shows. */
@Command(name = "ssh", mixinStandardHelpOptions = true,
        header = "ssh into a VM at the address its status shows.",
        description = {"Run ssh ARGS... IP, where IP is the address the controller found for NAME (the IP",
                "column of ie-virsh list). Everything after NAME goes to ssh as it is."},
        footer = {"", "Examples:", "  ie-virsh ssh web", "  ie-virsh ssh web -l debian -i ~/.ssh/course_key",
                "", "Exit codes: ssh's own; 1 when no address is known (the message says why)."})
final class SshCommand implements Callable<Integer> {
    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
            + "(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");

    @Mixin
    StudentOptions options;

    @Parameters(index = "0", paramLabel = "NAME", description = "The VM.")
    String name;

    @Parameters(index = "1..*", paramLabel = "ARGS", description = "Arguments for ssh, before the address.")
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        Path dir = options.existingDirectory();
        Optional<VmStatus> status = StatusReader.read(dir, name);
        if (status.isEmpty()) {
            throw new StudentOptions.StudentError(StatusReader.hasFile(dir, name)
                    ? name + " has no status yet (is the controller running?)"
                    : "there is no VM " + name + " (ie-virsh list shows your VMs)");
        }
        VmStatus s = status.get();
        if (s.ip() == null || !IPV4.matcher(s.ip()).matches()) {
            throw new StudentOptions.StudentError(noAddress(s));
        }
        List<String> command = new ArrayList<>();
        command.add("ssh");
        command.addAll(args);
        command.add(s.ip());
        Process ssh = new ProcessBuilder(command).inheritIO().start();
        return ssh.waitFor();
    }

    /** Why no address is known, in the student's words. */
    static String noAddress(VmStatus s) {
        if (s.phase() != Phase.Running) {
            return s.name() + " is " + s.phase() + (s.message() == null ? "" : " (" + s.message() + ")")
                    + "; a VM has an address only while it runs";
        }
        return s.name() + " runs, but no address is known yet: no DHCP lease for its MAC " + s.mac()
                + " and no answer from a guest agent (it may still be booting; ie-virsh console " + s.name()
                + " shows it)";
    }
}
