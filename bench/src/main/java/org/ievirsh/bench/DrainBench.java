package org.ievirsh.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintStream;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.controller.Controller;
import org.ievirsh.demo.DemoOwners;
import org.ievirsh.libvirt.EventLoop;
import org.ievirsh.libvirt.LibvirtBladeLink;
import org.ievirsh.metrics.Metrics;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.TypedParameter;
import org.libvirt.TypedStringParameter;

/**
 * DrainBench measures the drain promise of docs/performance.md on two real blades
 * that share storage (./dev test's network-namespace blades): {@code vms}
 * running KVM guests are moved from the first blade to the second by a
 * plain loop of sequential libvirt live migrations (the baseline), then
 * back by the controller draining the second blade ({@code drain: true} in
 * a live config, migration.parallel 2), and the two times compared.
 */
final class DrainBench {
    private static final String USER = "drainer";

    private DrainBench() {
    }

    static int run(String from, String to, int vms, PrintStream out) throws Exception {
        EventLoop.ensureStarted();
        String toHost = java.net.URI.create(to).getHost();
        String fromHost = java.net.URI.create(from).getHost();
        try (BenchWorld world = new BenchWorld(BenchTemplates.kvmWithoutNetwork())) {
            List<String> names = new ArrayList<>();
            for (int i = 0; i < vms; i++) {
                names.add("d" + i);
            }
            world.student(USER, names);
            for (String vm : names) {
                world.save(USER, vm, "Always");
            }
            String extra = "resync: 30s\nlockManager: none\nmigration: {parallel: 2, unsafe: true, timeout: 5m}\n";
            Controller controller = new Controller(config(world, from, to, "", "schedulable: false", extra),
                    new DemoOwners(List.of(USER)), b -> new LibvirtBladeLink(b.name(), b.uri()),
                    new Metrics(new SimpleMeterRegistry()), Clock.systemUTC());
            controller.start();
            for (String vm : names) {
                world.await(USER, vm, s -> s.phase() == Phase.Running && "src".equals(s.blade()), 120);
            }
            controller.close();  // the VMs keep running; the baseline moves them without the controller

            long loop;
            Connect source = new Connect(from);
            Connect destination = new Connect(to);
            try {
                int flags = Domain.MigrateFlags.LIVE | Domain.MigrateFlags.PERSIST_DEST
                        | Domain.MigrateFlags.UNDEFINE_SOURCE | Domain.MigrateFlags.ABORT_ON_ERROR
                        | Domain.MigrateFlags.UNSAFE;
                long t0 = System.nanoTime();
                for (String vm : names) {
                    Domain d = source.domainLookupByName(USER + "-" + vm);
                    Domain moved = d.migrate(destination, new TypedParameter[] {new TypedStringParameter(
                            Domain.DomainMigrateParameters.VIR_MIGRATE_PARAM_URI, "tcp://" + toHost)}, flags);
                    moved.free();
                    d.free();
                }
                loop = System.nanoTime() - t0;
            } finally {
                source.close();
                destination.close();
            }

            // Back by the controller: it starts with every VM on dst, then dst is drained in a live config.
            controller = new Controller(config(world, from, to, "schedulable: false", "", extra),
                    new DemoOwners(List.of(USER)), b -> new LibvirtBladeLink(b.name(), b.uri()),
                    new Metrics(new SimpleMeterRegistry()), Clock.systemUTC());
            controller.start();
            long drain;
            try {
                for (String vm : names) {
                    world.await(USER, vm, s -> s.phase() == Phase.Running && "dst".equals(s.blade()), 120);
                }
                long t0 = System.nanoTime();
                controller.reconfigure(config(world, from, to, "", "drain: true", extra));
                for (String vm : names) {
                    world.await(USER, vm, s -> s.phase() == Phase.Running && "src".equals(s.blade()), 600);
                }
                drain = System.nanoTime() - t0;
            } finally {
                controller.close();
                removeDomains(from, names);
                removeDomains(to, names);
            }
            double ratio = (double) drain / loop;
            out.printf("drain     %d running VMs off a draining blade (migration.parallel 2): %.1f s%n", vms,
                    drain / 1e9);
            out.printf("baseline  the same VMs, a loop of sequential libvirt live migrations (%s -> %s): %.1f s%n",
                    fromHost, toHost, loop / 1e9);
            return Promise.report(out, String.format("drain at most 1.2 times the sequential loop (%.2f)", ratio),
                    ratio <= 1.2);
        }
    }

    private static ControllerConfig config(BenchWorld world, String from, String to, String srcExtra,
                                           String dstExtra, String extra) {
        String text = world.configText(from, 0, extra).replaceAll("(?m)^  - \\{name: bench, uri: .*$",
                "  - {name: src, uri: \"" + from + "\", capacity: {vcpus: 64, memory: 16GiB}"
                        + (srcExtra.isEmpty() ? "" : ", " + srcExtra) + "}\n"
                        + "  - {name: dst, uri: \"" + to + "\", capacity: {vcpus: 64, memory: 16GiB}"
                        + (dstExtra.isEmpty() ? "" : ", " + dstExtra) + "}");
        return ControllerConfig.parse("bench.yaml", text.getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .orThrow();
    }

    /** Destroys and undefines the benchmark's domains on one blade (the controller never removes 20 at once). */
    private static void removeDomains(String uri, List<String> names) throws org.libvirt.LibvirtException {
        Connect c = new Connect(uri);
        try {
            for (String vm : names) {
                try {
                    Domain d = c.domainLookupByName(USER + "-" + vm);
                    if (d.isActive() == 1) {
                        d.destroy();
                    }
                    d.undefine();
                    d.free();
                } catch (org.libvirt.LibvirtException e) {
                    // not on this blade
                }
            }
        } finally {
            c.close();
        }
    }
}
