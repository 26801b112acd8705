package org.ievirsh.cli;

import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.ievirsh.api.Parsed;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.controller.ConfigChecks;
import org.ievirsh.controller.Controller;
import org.ievirsh.http.HttpApi;
import org.ievirsh.libvirt.LibvirtBladeLink;
import org.ievirsh.metrics.Metrics;
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
        return run(parsed.orThrow(), new NssOwners(), null);
    }

    /** Runs a controller on {@code config} until the process is told to stop (or {@code stop} counts down). */
    static int run(ControllerConfig config, OwnerResolver owners, CountDownLatch stop) throws InterruptedException {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        // promtool rejects two of Micrometer's names: "process_cpu_time_ns_total" (an abbreviated unit)
        // and the gauge "system_cpu_count" (a _count suffix); process_cpu_usage and the JVM's own
        // processor gauge carry the same information.
        registry.config().meterFilter(MeterFilter.denyNameStartsWith("process.cpu.time"))
                .meterFilter(MeterFilter.deny(id -> id.getName().equals("system.cpu.count")));
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        Controller controller = new Controller(config, owners,
                blade -> new LibvirtBladeLink(blade.name(), blade.uri()), new Metrics(registry), Clock.systemUTC());
        HttpApi http;
        try {
            http = HttpApi.start(config.http().host(), config.http().port(), Tokens.read(config.http().tokenFile()),
                    registry, controller.statuses(), controller);
        } catch (IllegalStateException e) {
            System.err.println("ie-virsh: " + e.getMessage());
            controller.close();
            return 1;
        }
        LOG.info("serving http://" + config.http().host() + ":" + http.port()
                + "/{metrics,healthz,readyz,api/v1/vms}");
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            LOG.info("stopping");
            http.close();
            controller.close();
            stopped.countDown();
        }, "shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        controller.start();
        if (stop != null) {
            stop.await();
            Runtime.getRuntime().removeShutdownHook(hook);
            hook.run();
        } else {
            stopped.await();
        }
        return 0;
    }
}
