package org.ievirsh.demo;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.logging.Level;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.Durations;
import org.ievirsh.controller.Controller;
import org.ievirsh.cli.AddedCommand;
import org.ievirsh.cli.Logs;
import org.ievirsh.http.HttpApi;
import org.ievirsh.libvirt.LibvirtBladeLink;
import org.ievirsh.metrics.Exposition;
import org.ievirsh.metrics.Metrics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * DemoCommand runs the real controller against libvirt's test driver on
 * example students made under a temporary directory, with the HTTP
 * endpoints up, and tells what happens as it happens.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        header = "Run the controller on libvirt's test driver for three example students.",
        description = {"Run the controller on libvirt's built-in test driver with three example students",
                "(alice, bob, carol) under a temporary directory, edit their files step by step, and print",
                "what the controller does. Needs only the libvirt library; touches nothing outside /tmp."},
        footer = {"", "Example:", "  ie-virsh demo                 # runs the story, then serves until Ctrl-C",
                "  ie-virsh demo --stay 0s       # runs the story and exits",
                "", "Exit codes: 0 the story converged, 1 a step did not converge in time."})
public final class DemoCommand implements AddedCommand {

    @Option(names = "--listen", description = "host:port of the HTTP endpoints (default: ${DEFAULT-VALUE}).",
            defaultValue = "127.0.0.1:9464")
    String listen;

    @Option(names = "--stay", description = "How long to keep serving after the story (default: until Ctrl-C).")
    String stay;

    @Option(names = {"-v", "--verbose"}, description = "Also print the controller's log.")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        Logs.setUp(verbose ? Level.INFO : Level.WARNING);
        try (DemoWorld world = DemoWorld.create()) {
            ControllerConfig config = world.config(listen);
            Exposition metrics = new Exposition(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
            Controller controller = new Controller(config, world.owners(),
                    blade -> new LibvirtBladeLink(blade.name(), blade.uri()), new Metrics(metrics),
                    Clock.systemUTC());
            try (HttpApi http = HttpApi.start(config.http().host(), config.http().port(), Optional.empty(), metrics,
                    controller.statuses(), controller); controller) {
                String base = "http://" + config.http().host() + ":" + http.port();
                System.out.println("ie-virsh demo in " + world.root());
                System.out.println("  students' files: " + world.root().resolve("home") + "/{alice,bob,carol}/ie-virsh");
                System.out.println("  blades: demo1 and demo2 (libvirt's test driver); endpoints: " + base
                        + "/metrics /healthz /readyz /api/v1/vms");
                controller.start();
                boolean converged = new DemoStory(world, controller, System.out).run();
                System.out.println(converged ? "== Done: every step converged." : "== A step did not converge in time.");
                System.out.println("   Look: cat " + world.vmDirectory("alice").resolve(".status/web.yaml")
                        + "   or   curl -s " + base + "/api/v1/vms");
                Duration hold = stay == null ? null : Durations.parse(stay);
                if (hold == null) {
                    System.out.println("   Serving until Ctrl-C.");
                    Thread.currentThread().join();
                } else if (!hold.isZero()) {
                    Thread.sleep(hold.toMillis());
                }
                return converged ? 0 : 1;
            }
        }
    }
}
