package org.ievirsh.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.controller.Controller;
import org.ievirsh.demo.DemoOwners;
import org.ievirsh.libvirt.EventLoop;
import org.ievirsh.libvirt.LibvirtBladeLink;
import org.ievirsh.metrics.Metrics;

/**
 * AddressBench measures the lease promise of docs/performance.md on libvirt's test
 * driver: the time from a DHCP lease appended to the watched lease file (as
 * dnsmasq and dhcpd write it) to the VM's status file showing the address,
 * in pairs with the time from a change of the same student's VM file to its
 * status (the watcher and the reconcile alone), for a baseline.
 */
final class AddressBench {
    private static final int STUDENTS = 50;

    private AddressBench() {
    }

    static int run(int runs, PrintStream out) throws Exception {
        EventLoop.ensureStarted();
        try (BenchWorld world = new BenchWorld(BenchTemplates.testDriverWithNic())) {
            List<String> users = new ArrayList<>();
            for (int i = 0; i < STUDENTS; i++) {
                users.add("addr" + i);
                world.student("addr" + i, List.of("vm"));
                world.save("addr" + i, "vm", "Always");
            }
            Path leases = Files.writeString(world.root().resolve("dnsmasq.leases"), "");
            Path node = Files.writeString(world.root().resolve("node.xml"), "<node><cpu><nodes>1</nodes><sockets>1"
                    + "</sockets><cores>64</cores><threads>1</threads><active>64</active><mhz>2000</mhz><model>n"
                    + "</model></cpu><memory>134217728</memory></node>");
            Controller controller = new Controller(world.config("test://" + node, 0, "resync: 30s\n"
                    + "addresses: {sources: [leases], leases: [" + leases + "]}\n"), new DemoOwners(users),
                    b -> new LibvirtBladeLink(b.name(), b.uri()), new Metrics(new SimpleMeterRegistry()),
                    Clock.systemUTC());
            controller.start();
            try {
                for (String user : users) {
                    world.await(user, "vm", s -> s.phase() == Phase.Running, 60);
                }
                Figures lease = new Figures();
                Figures file = new Figures();
                for (int i = 0; i < runs; i++) {
                    String user = users.get(i % users.size());
                    VmStatus before = world.status(user, "vm").orElseThrow();
                    String ip = "10.77." + (i / 250) + "." + (i % 250 + 1);
                    long t0 = System.nanoTime();
                    Files.writeString(leases, (System.currentTimeMillis() / 1000 + 3600) + " " + before.mac() + " "
                            + ip + " vm *\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
                    world.await(user, "vm", s -> ip.equals(s.ip()), 60);
                    lease.add((System.nanoTime() - t0) / 1e6);

                    String hash = world.status(user, "vm").orElseThrow().observedSpecHash();
                    Path spec = world.dir(user).resolve("vm.yaml");
                    t0 = System.nanoTime();
                    Files.writeString(spec, Files.readString(spec).replaceAll("(?m)^  description:.*\\n", "")
                            + "  description: run " + i + "\n");
                    world.await(user, "vm", s -> !hash.equals(s.observedSpecHash()), 60);
                    file.add((System.nanoTime() - t0) / 1e6);
                }
                out.printf("addresses  lease appended -> status shows it: median %.0f ms, p95 %.0f ms (%d leases;"
                        + " goal <= 2000 ms)%n", lease.median(), lease.percentile(95), lease.count());
                out.printf("addresses  baseline, VM file saved -> status: median %.0f ms, p95 %.0f ms%n",
                        file.median(), file.percentile(95));
                return Promise.report(out, "addresses: a DHCP lease in the status within 2 s",
                        lease.percentile(95) <= 2000);
            } finally {
                controller.close();
            }
        }
    }
}
