package org.ievirsh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** SshCommandTest: what stands before NAME is ours, what follows is the command run in the VM. */
class SshCommandTest {
    private static SshCommand parse(String... args) {
        SshCommand ssh = new SshCommand();
        CommandLine line = new CommandLine(ssh);
        line.setStopAtPositional(true);  // as Main sets it
        line.parseArgs(args);
        return ssh;
    }

    @Test
    void aCommandAfterTheNameRunsInTheVm() {
        // It was "ssh uptime IP": the command went to ssh as an option, the student got a login.
        SshCommand ssh = parse("web", "uptime");
        assertEquals(List.of("ssh", "--", "10.0.0.5", "uptime"),
                SshCommand.sshCommand(ssh.login, ssh.sshOptions, "10.0.0.5", ssh.command));
    }

    @Test
    void ourOptionsStandAnywhereBeforeTheNameAndEverythingAfterItIsTheCommands() {
        SshCommand ssh = parse("--dir", "/tmp/x", "-l", "debian", "-o", "StrictHostKeyChecking=accept-new",
                "--config", "/tmp/c.yaml", "-o", "ConnectTimeout=5", "web", "ls", "-la", "--config", "/etc");
        assertEquals(Path.of("/tmp/x"), ssh.options.dir);
        assertEquals(Path.of("/tmp/c.yaml"), ssh.options.config);
        assertEquals("web", ssh.name);
        assertEquals(List.of("ssh", "-l", "debian", "-o", "StrictHostKeyChecking=accept-new", "-o", "ConnectTimeout=5",
                "--", "10.0.0.5", "ls", "-la", "--config", "/etc"),
                SshCommand.sshCommand(ssh.login, ssh.sshOptions, "10.0.0.5", ssh.command));
    }

    @Test
    void theAddressStandsAfterTheEndOfOptions() {
        // Only a dotted IPv4 address gets this far, and never where ssh reads options.
        List<String> line = SshCommand.sshCommand(null, List.of(), "10.0.0.5", List.of());
        assertEquals(List.of("ssh", "--", "10.0.0.5"), line);
    }
}
