package org.ievirsh.controller;

import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Logger;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.blade.Blade;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.console.ConsoleBroker;
import org.ievirsh.http.HttpApi;
import org.ievirsh.libvirt.Hypervisor;
import org.ievirsh.libvirt.LibvirtBladeLink;
import org.ievirsh.metrics.Metrics;
import org.ievirsh.posix.Nss;
import org.ievirsh.users.OwnerResolver;

/**
 * Daemon is the controller as a process: its metrics registry, the
 * controller, the HTTP endpoints and the console socket, started in that
 * order and stopped in the reverse one (on SIGTERM, or when {@code stop}
 * counts down in tests).
 */
public final class Daemon {
    private static final Logger LOG = Logger.getLogger(Daemon.class.getName());

    private Daemon() {
    }

    /** The registry the service publishes: Prometheus, the JVM's meters, minus two names promtool refuses. */
    public static PrometheusMeterRegistry registry() {
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
        return registry;
    }

    /** What the console broker asks of a running controller. */
    static ConsoleBroker.Vms consoleTargets(Controller controller) {
        return new ConsoleBroker.Vms() {
            @Override
            public Optional<ConsoleBroker.Target> find(String user, int uid, String vm) {
                for (ObservedDomain d : controller.fleet().domainsOf(user)) {
                    if (d.config().vm().equals(vm) && d.config().uid() == uid) {
                        return Optional.of(new ConsoleBroker.Target(d.blade(), d.uuid(), d.isActive()));
                    }
                }
                return Optional.empty();
            }

            @Override
            public Optional<Hypervisor> hypervisor(String blade) {
                return controller.fleet().blade(blade).flatMap(Blade::hypervisor);
            }

            @Override
            public boolean leading() {
                return controller.leading();
            }
        };
    }

    /** Runs a controller on {@code config} until the process is told to stop (or {@code stop} counts down). */
    public static int run(ControllerConfig config, Optional<String> token, OwnerResolver owners, CountDownLatch stop)
            throws InterruptedException {
        return run(config, Optional.empty(), token, owners, stop);
    }

    /**
     * The same, with the file {@code config} was read from: it is read again
     * when it changes and on SIGHUP.
     */
    public static int run(ControllerConfig config, Optional<java.nio.file.Path> file, Optional<String> token,
                          OwnerResolver owners, CountDownLatch stop) throws InterruptedException {
        PrometheusMeterRegistry registry = registry();
        Controller controller = new Controller(config, owners,
                blade -> new LibvirtBladeLink(blade.name(), blade.uri()), new Metrics(registry), Clock.systemUTC());
        HttpApi http;
        try {
            http = HttpApi.start(config.http().host(), config.http().port(), token, registry, controller.statuses(),
                    controller);
        } catch (IllegalStateException e) {
            System.err.println("ie-virsh: " + e.getMessage());
            controller.close();
            return 1;
        }
        LOG.info("serving http://" + config.http().host() + ":" + http.port()
                + "/{metrics,healthz,readyz,api/v1/vms}");
        ConsoleBroker console = new ConsoleBroker(config.console().socket(), config.console().maxSessionsPerUser(),
                consoleTargets(controller), Nss::byName, registry);
        try {
            console.start();
        } catch (IOException e) {
            System.err.println("ie-virsh: cannot listen on " + config.console().socket() + ": " + e.getMessage());
            http.close();
            controller.close();
            return 1;
        }
        Optional<ConfigReloader> reloader = file.map(f -> new ConfigReloader(f, controller, registry));
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            LOG.info("stopping");
            reloader.ifPresent(ConfigReloader::close);
            console.close();
            http.close();
            controller.close();
            stopped.countDown();
        }, "shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        controller.start();
        reloader.ifPresent(ConfigReloader::start);
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
