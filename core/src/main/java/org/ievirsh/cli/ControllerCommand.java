package org.ievirsh.cli;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.ievirsh.api.Parsed;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.controller.ConfigChecks;
import org.ievirsh.controller.ConfigFiles;
import org.ievirsh.controller.Daemon;
import org.ievirsh.users.NssOwners;
import org.ievirsh.users.OwnerResolver;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** ControllerCommand runs the controller as a daemon until SIGTERM; the VMs keep running after it stops. */
@Command(name = "controller", mixinStandardHelpOptions = true,
        header = "Run the controller (admins; as root).",
        description = {"Run the controller: reconcile the students' VM files with the blades' libvirt domains.",
                "Runs as root (it writes status into students' directories). SIGTERM stops it cleanly and leaves",
                "every VM as it is."},
        footer = {"", "Example:", "  ie-virsh controller --config /etc/ie-virsh/controller.yaml",
                "", "Exit codes: 0 stopped, 2 the config is invalid, 1 it could not start."})
final class ControllerCommand implements Callable<Integer> {
    private static final Logger LOG = Logger.getLogger(ControllerCommand.class.getName());

    @Option(names = "--config", description = "The admin's config (default: ${DEFAULT-VALUE}).",
            defaultValue = "/etc/ie-virsh/controller.yaml")
    Path config;

    @Option(names = {"-v", "--verbose"}, description = "Log every step.")
    boolean verbose;

    @Override
    public Integer call() throws InterruptedException {
        Logs.setUp(verbose ? Level.FINE : Level.INFO);
        Parsed<ControllerConfig> parsed = ConfigFiles.read(config);
        if (!parsed.isOk()) {
            parsed.problems().forEach(p -> System.err.println(p));
            return 2;
        }
        ConfigChecks.Checked checked = ConfigChecks.check(config.toString(), parsed.orThrow());
        checked.warnings().forEach(w -> LOG.warning("config: " + w));
        if (!checked.ok()) {
            checked.errors().forEach(p -> System.err.println(p));
            return 2;
        }
        return Daemon.run(parsed.orThrow(), Optional.of(config), Tokens.read(parsed.orThrow().http().tokenFile()),
                new NssOwners(), null);
    }

    /** Runs a controller on {@code config} until the process is told to stop (or {@code stop} counts down). */
    static int run(ControllerConfig config, OwnerResolver owners, CountDownLatch stop) throws InterruptedException {
        return Daemon.run(config, Tokens.read(config.http().tokenFile()), owners, stop);
    }
}
