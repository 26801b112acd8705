package org.ievirsh.controller;

import io.micrometer.core.instrument.Gauge;
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
import org.ievirsh.console.ConsoleVms;
import org.ievirsh.http.HttpApi;
import org.ievirsh.libvirt.ConsoleStream;
import org.ievirsh.libvirt.HypervisorException;
import org.ievirsh.libvirt.LibvirtBladeLink;
import org.ievirsh.metrics.Exposition;
import org.ievirsh.metrics.Metrics;
import org.ievirsh.posix.Nss;
import org.ievirsh.posix.Systemd;
import org.ievirsh.snapshot.SnapshotPlanner;
import org.ievirsh.status.StatusBook;
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
    static ConsoleVms consoleTargets(Controller controller) {
        return new ConsoleVms() {
            @Override
            public Optional<ConsoleVms.Target> find(String user, int uid, String vm) {
                for (ObservedDomain d : controller.fleet().domainsOf(user)) {
                    if (d.config().vm().equals(vm) && d.config().uid() == uid) {
                        return Optional.of(new ConsoleVms.Target(d.blade(), d.uuid(), d.isActive()));
                    }
                }
                return Optional.empty();
            }

            @Override
            public ConsoleStream open(String blade, String uuid, boolean force) throws HypervisorException {
                Blade b = controller.fleet().blade(blade).orElseThrow(() -> HypervisorException.disconnected(blade));
                return b.link().openConsole(uuid, force);
            }

            @Override
            public boolean leading() {
                return controller.leading();
            }

            @Override
            public Optional<String> teaching(String caller, String student, String vm) {
                return controller.classroom().teaching(caller, student, vm);
            }

            @Override
            public ConsoleVms.Listing list(String caller, String course) {
                return controller.classroom().list(caller, course);
            }

            @Override
            public ConsoleVms.Listing snapshot(String op, String user, int uid, String vm, String label) {
                SnapshotPlanner.Op which = switch (op) {
                    case "SNAPSHOT" -> SnapshotPlanner.Op.CREATE;
                    case "REVERT" -> SnapshotPlanner.Op.REVERT;
                    case "DELETE-SNAPSHOT" -> SnapshotPlanner.Op.DELETE;
                    default -> SnapshotPlanner.Op.LIST;
                };
                return controller.snapshots().handle(which, user, uid, vm, label);
            }

            @Override
            public void watching(String student, String vm, String who, boolean open) {
                if (open) {
                    controller.consoleWatch().opened(student, vm, who);
                } else {
                    controller.consoleWatch().closed(student, vm, who);
                }
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
     * when it changes and on SIGHUP. With {@code ha}, the process serves
     * HTTP as a standby until it holds {@code ha.lockFile}; then it reads
     * its config file afresh, and the controller and the console start.
     */
    public static int run(ControllerConfig config, Optional<java.nio.file.Path> file, Optional<String> token,
                          OwnerResolver owners, CountDownLatch stop) throws InterruptedException {
        PrometheusMeterRegistry registry = registry();
        Role role = new Role(config, file, owners, registry);
        Gauge.builder("ievirsh.leader", role, r -> r.leader() == null ? 0 : 1)
                .description("1 on the controller that leads (holds ha.lockFile, or runs without ha), 0 on a standby")
                .strongReference(true).register(registry);
        if (config.ha().isPresent()) {
            // Before HTTP serves: whoever sees this process serve (systemd's reload, an admin) may signal it.
            role.hangupWhileStandby();
        }
        HttpApi http;
        try {
            http = HttpApi.start(config.http().host(), config.http().port(), token, role.exposition, role.book, role);
        } catch (IllegalStateException e) {
            System.err.println("ie-virsh: " + e.getMessage());
            return 1;
        }
        io.micrometer.core.instrument.FunctionCounter.builder("ievirsh.http.connections.refused", http,
                        HttpApi::refused)
                .description("HTTP connections refused over the bounds (in all, per local user or remote address)")
                .register(registry);
        LOG.info("serving http://" + config.http().host() + ":" + http.port()
                + "/{metrics,healthz,readyz,api/v1/vms}");
        Systemd systemd = Systemd.fromEnvironment();
        ProgressWatchdog watchdog = new ProgressWatchdog(role::leader, config.resync(), systemd, () -> {
            systemd.notify("STATUS=no progress; exiting");
            Runtime.getRuntime().halt(70);
        });
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            LOG.info("stopping");
            watchdog.close();
            role.close();
            http.close();
            stopped.countDown();
        }, "shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        if (config.ha().isPresent()) {
            try {
                role.leadership = new Leadership(config.ha().get().lockFile());
            } catch (org.ievirsh.posix.PosixException e) {
                System.err.println("ie-virsh: ha.lockFile: " + e.getMessage());
                Runtime.getRuntime().removeShutdownHook(hook);
                hook.run();
                return 1;
            }
            Thread taker = new Thread(() -> role.takeOver(systemd), "leadership");
            taker.setDaemon(true);
            taker.start();
            systemd.notify("READY=1\nSTATUS=standby: waiting for " + config.ha().get().lockFile());
        } else if (role.lead(config)) {
            systemd.notify("READY=1\nSTATUS=leading");
        } else {
            Runtime.getRuntime().removeShutdownHook(hook);
            hook.run();
            return 1;
        }
        watchdog.start();
        if (stop != null) {
            stop.await();
            Runtime.getRuntime().removeShutdownHook(hook);
            hook.run();
        } else {
            stopped.await();
        }
        return 0;
    }

    /**
     * Role is what this process is: a standby (no controller yet: nothing
     * is reconciled, no status written, no console served) or the leader,
     * whose controller, console and config reloader run. HTTP answers for
     * either: {@code /readyz} says {@code standby} on a standby.
     */
    static final class Role implements HttpApi.Health {
        private final ControllerConfig startConfig;
        private final Optional<java.nio.file.Path> file;
        private final OwnerResolver owners;
        private final PrometheusMeterRegistry registry;
        /** What /metrics answers: the registry, then the leader's per-VM series. */
        final Exposition exposition;
        final StatusBook book = new StatusBook();
        private volatile Controller controller;
        private ConsoleBroker console;
        private ConfigReloader reloader;
        private Leadership leadership;
        private boolean closed;

        Role(ControllerConfig config, Optional<java.nio.file.Path> file, OwnerResolver owners,
             PrometheusMeterRegistry registry) {
            this.startConfig = config;
            this.file = file;
            this.owners = owners;
            this.registry = registry;
            this.exposition = new Exposition(registry);
        }

        /** The running controller; null on a standby. */
        Controller leader() {
            return controller;
        }

        /**
         * SIGHUP on a standby (systemd's ExecReload sends it to every
         * controller): the config file is read and checked again, the log says
         * whether it would be refused, and the process stays a standby (the
         * JVM's own handling of SIGHUP would end it). It applies when this
         * controller leads: a takeover reads the file afresh. Once leading,
         * the config reloader handles SIGHUP.
         */
        void hangupWhileStandby() {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal("HUP"), signal -> {
                    if (leader() != null) {
                        return;  // a leader's reloader took the signal over; a late one is nothing to do
                    }
                    if (file.isEmpty()) {
                        LOG.info("standby: SIGHUP; no config file to read again");
                        return;
                    }
                    Optional<ControllerConfig> again = readAgain(file.get());
                    LOG.info("standby: SIGHUP: " + file.get() + (again.isPresent() ? " reads and passes its checks;"
                            : " does not pass its checks (see above);") + " it applies when this controller leads");
                });
            } catch (IllegalArgumentException e) {
                LOG.warning("standby: SIGHUP cannot be caught here (" + e.getMessage() + ")");
            }
        }

        /** Waits for the lock, then leads with the config file as it is now (the start's, if it no longer reads). */
        void takeOver(Systemd systemd) {
            try {
                Leadership.Record record = leadership.take(Clock.systemUTC());
                LOG.info("leader: took " + startConfig.ha().get().lockFile() + " as epoch " + record.epoch()
                        + " (host " + record.host() + ", pid " + record.pid() + ")");
                if (lead(file.flatMap(Daemon::readAgain).orElse(startConfig))) {
                    systemd.notify("STATUS=leading (epoch " + record.epoch() + ")");
                } else {
                    Runtime.getRuntime().halt(1);  // the lock must go to a standby that can lead
                }
            } catch (org.ievirsh.posix.PosixException e) {
                LOG.severe("ha.lockFile: " + e.getMessage() + "; this controller cannot lead");
            }
        }

        /** Starts the controller, then the console and the config reloader; false when the console cannot listen. */
        synchronized boolean lead(ControllerConfig config) {
            if (closed) {
                return false;
            }
            Controller started = new Controller(config, owners,
                    blade -> new LibvirtBladeLink(blade.name(), blade.uri()), new Metrics(exposition),
                    Clock.systemUTC(), null, book);
            ConsoleBroker broker = new ConsoleBroker(config.console().socket(), config.console().maxSessionsPerUser(),
                    consoleTargets(started), Nss::byName, registry);
            // The socket first: a second controller on this host finds it served and stops before it reconciles
            // anything beside the first one.
            try {
                broker.start();
            } catch (IOException e) {
                System.err.println("ie-virsh: cannot serve the console socket " + config.console().socket() + ": "
                        + e.getMessage());
                broker.close();
                return false;
            }
            started.start();
            console = broker;
            controller = started;
            reloader = file.map(f -> new ConfigReloader(f, started, registry)).orElse(null);
            if (reloader != null) {
                reloader.start();
            }
            return true;
        }

        synchronized void close() {
            closed = true;
            if (reloader != null) {
                reloader.close();
            }
            if (console != null) {
                console.close();
            }
            if (controller != null) {
                controller.close();
            }
            if (leadership != null) {
                leadership.close();
            }
        }

        @Override
        public boolean healthy() {
            Controller c = controller;
            return c == null || c.healthy();
        }

        @Override
        public boolean ready() {
            Controller c = controller;
            return c != null && c.ready();
        }

        @Override
        public String readiness() {
            Controller c = controller;
            return c == null ? "standby" : c.readiness();
        }
    }

    /** The config file read and checked again (a takeover's); empty, with a log line, when it does not pass. */
    static Optional<ControllerConfig> readAgain(java.nio.file.Path file) {
        try {
            org.ievirsh.api.Parsed<ControllerConfig> parsed = ConfigFiles.read(file);
            if (parsed.isOk() && ConfigChecks.check(file.toString(), parsed.orThrow()).ok()) {
                return Optional.of(parsed.orThrow());
            }
            LOG.warning("config: " + file + " does not pass its checks now; leading with the config of the start");
        } catch (RuntimeException e) {
            LOG.warning("config: " + file + ": " + e + "; leading with the config of the start");
        }
        return Optional.empty();
    }
}
