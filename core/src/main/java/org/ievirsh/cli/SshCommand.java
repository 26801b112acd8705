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
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * SshCommand runs {@code ssh [-l USER] [-o OPTION]... -- IP [COMMAND...]}
 * with the address the VM's status shows (USER: {@code -l}'s, else the
 * login its base image's descriptor says): its own options before NAME,
 * the command to run in the VM after it. The address, which a guest may
 * have reported, stands after {@code --} and only as dotted IPv4: nothing a
 * guest says can become an option of ssh.
 */
@Command(name = "ssh", mixinStandardHelpOptions = true,
        header = "ssh into a VM at the address its status shows, or run a command there.",
        description = {"Run ssh -l USER -o OPTION... -- IP COMMAND..., where IP is the address the controller",
                "found for NAME (the IP column of ie-virsh list). Options come before NAME; what follows",
                "NAME is the command to run in the VM (none: a login shell)."},
        footer = {"", "Examples:", "  ie-virsh ssh web", "  ie-virsh ssh -l debian web uptime",
                "  ie-virsh ssh -o IdentityFile=~/.ssh/course_key -l debian web sudo apt update",
                "", "Exit codes: ssh's own (the command's); 1 when no address is known (the message says why)."})
final class SshCommand implements Callable<Integer> {
    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
            + "(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");

    @Mixin
    StudentOptions options;

    @Option(names = "-l", paramLabel = "USER", description = "The user to log in as in the VM (default: the one its"
            + " base image names, if any).")
    String login;

    @Option(names = "-o", paramLabel = "OPTION", description = "An ssh option (as ssh -o takes it); repeatable.")
    List<String> sshOptions = new ArrayList<>();

    @Parameters(index = "0", paramLabel = "NAME", description = "The VM.")
    String name;

    @Parameters(index = "1..*", paramLabel = "COMMAND", description = "A command (and its arguments) to run in the VM.")
    List<String> command = new ArrayList<>();

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
        String user = login != null ? login
                : BasesCommand.userOf(options, StudentOptions.vmFile(dir, name)).orElse(null);
        Process ssh = new ProcessBuilder(sshCommand(user, sshOptions, s.ip(), command)).inheritIO().start();
        return ssh.waitFor();
    }

    /** {@code ssh [-l USER] [-o OPTION]... -- IP [COMMAND...]}: the address never where an option could be. */
    static List<String> sshCommand(String login, List<String> options, String ip, List<String> command) {
        List<String> line = new ArrayList<>(List.of("ssh"));
        if (login != null) {
            line.addAll(List.of("-l", login));
        }
        for (String option : options) {
            line.addAll(List.of("-o", option));
        }
        line.addAll(List.of("--", ip));
        line.addAll(command);
        return line;
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
