package org.ievirsh.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.UserPrincipal;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.ievirsh.controller.Controller;
import org.ievirsh.image.EmptyQcow2;
import org.ievirsh.libvirt.EventLoop;
import org.ievirsh.libvirt.LibvirtBladeLink;
import org.ievirsh.metrics.Metrics;
import org.ievirsh.template.DomainIdentity;
import org.ievirsh.users.NssOwners;
import org.libvirt.Connect;
import org.libvirt.event.DomainEventType;

/**
 * BaseBench measures the base-image promise of docs/performance.md on a
 * real libvirtd: the first start of a VM made from a base image with
 * {@code firstBoot: cloud-init} (a file saved to its domain STARTED: the
 * overlay made with qemu-img and the seed with genisoimage, both as the
 * student, through setpriv), beside the same VM on an image the student
 * already has, in interleaved pairs, by a real account. The figure is what
 * the base adds, per pair, at p50.
 */
final class BaseBench {
    private static final String PREFIX = "ievbench";
    private static final int UID = 46100;

    private BaseBench() {
    }

    static int run(String uri, int pairs, PrintStream out) throws Exception {
        EventLoop.ensureStarted();
        // Base images must sit in directories only root can write, up to / (not under /tmp).
        Path bases = Files.createTempDirectory(Path.of("/run"), "ie-virsh-bench-bases-");
        Files.setPosixFilePermissions(bases, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Figures plain = new Figures();
        Figures based = new Figures();
        Figures added = new Figures();
        Connect watcher = new Connect(uri);
        Map<String, Long> started = new ConcurrentHashMap<>();
        BlockingQueue<String> names = new LinkedBlockingQueue<>();
        watcher.addLifecycleListener((domain, event) -> {
            long now = System.nanoTime();
            try {
                if (event.getType() == DomainEventType.STARTED) {
                    started.put(domain.getName(), now);
                    names.add(domain.getName());
                }
                domain.free();
            } catch (Exception ignored) {
                // An event we cannot read is not one we wait for.
            }
            return 0;
        });
        // The student's QEMU opens /dev/kvm as the student: KVM where everyone may (./dev test makes it so), else TCG.
        boolean kvm = Files.isWritable(Path.of("/dev/kvm")) && Files.getPosixFilePermissions(Path.of("/dev/kvm"))
                .contains(java.nio.file.attribute.PosixFilePermission.OTHERS_WRITE);
        String template = BenchTemplates.kvmWithoutNetwork();
        try (BenchWorld world = new BenchWorld(kvm ? template : template.replace("type='kvm'", "type='qemu'"));
             Accounts accounts = Accounts.create(PREFIX, 1, UID, world.root().resolve("home"))) {
            String user = Accounts.name(PREFIX, 0);
            UserPrincipal owner = world.root().getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(user);
            makeStudent(world, user, owner);
            Path base = bases.resolve("bench-base.qcow2");
            Files.write(base, EmptyQcow2.of(64L << 20));
            Files.setPosixFilePermissions(base, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            Files.writeString(bases.resolve("bench-base.yaml"), "firstBoot: cloud-init\nuser: debian\n");
            Controller controller = new Controller(world.config(uri, 1000, "baseImages: {root: " + bases + "}\n"),
                    new NssOwners(), b -> new LibvirtBladeLink(b.name(), b.uri()), new Metrics(
                    new io.micrometer.core.instrument.simple.SimpleMeterRegistry()), Clock.systemUTC());
            controller.start();
            Connect direct = new Connect(uri);
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!controller.ready() && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                out.printf("base: %d interleaved pairs on %s (%s), as the account %s%n", pairs, uri,
                        kvm ? "KVM" : "TCG: /dev/kvm is not open to students", user);
                for (int i = 0; i < pairs + 1; i++) {
                    boolean first = i % 2 == 0;  // which of the pair goes first alternates
                    long[] nanos = new long[2];
                    for (int k = 0; k < 2; k++) {
                        boolean onBase = first == (k == 0);
                        String vm = (onBase ? "b" : "p") + i;
                        if (!onBase) {
                            Path image = world.root().resolve("images").resolve(user).resolve(vm + ".qcow2");
                            Files.write(image, EmptyQcow2.of(64L << 20));
                            Files.setOwner(image, owner);
                        }
                        names.clear();
                        long t0 = System.nanoTime();
                        save(world, user, owner, vm, onBase ? "  baseImage: bench-base\n" : "  image: " + vm + ".qcow2\n");
                        nanos[onBase ? 1 : 0] = LatencyBench.awaitStarted(started, names, DomainIdentity.domainName(user, vm)) - t0;
                    }
                    if (i > 0) {  // the first pair warms up
                        plain.add(nanos[0] / 1e6);
                        based.add(nanos[1] / 1e6);
                        added.add((nanos[1] - nanos[0]) / 1e6);
                    }
                    for (String vm : List.of("b" + i, "p" + i)) {
                        Files.delete(world.dir(user).resolve(vm + ".yaml"));
                    }
                    LatencyBench.awaitNoDomains(direct, user + "-");
                }
            } finally {
                controller.close();
                direct.close();
            }
        } finally {
            watcher.close();
            try (var walk = Files.walk(bases)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
        out.printf("base  on an image of the student's: file saved -> STARTED p50 %.1f ms  p95 %.1f ms%n",
                plain.median(), plain.percentile(95));
        out.printf("base  on a base image (overlay and seed made as the student): p50 %.1f ms  p95 %.1f ms%n",
                based.median(), based.percentile(95));
        out.printf("base  added by the base, per pair: p50 %.1f ms  p95 %.1f ms  (goal: p50 <= 50 ms)%n",
                added.median(), added.percentile(95));
        return Promise.report(out, "base: a VM on a base image starts at most 50 ms later at p50", added.median() <= 50);
    }

    /** The student's directories, theirs, enterable by their QEMU; a key in their authorized_keys. */
    private static void makeStudent(BenchWorld world, String user, UserPrincipal owner) throws IOException {
        world.student(user, List.of());
        for (Path p : List.of(world.root(), world.root().resolve("home"), world.root().resolve("images"))) {
            Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        }
        Path home = world.root().resolve("home").resolve(user);
        Path ssh = Files.createDirectories(home.resolve(".ssh"));
        Files.writeString(ssh.resolve("authorized_keys"), "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBenchKeyOnlyForTheBench00000000000000000000"
                + " bench@laptop\n");
        for (Path p : List.of(home, home.resolve("ie-virsh"), ssh, ssh.resolve("authorized_keys"),
                world.root().resolve("images").resolve(user))) {
            Files.setOwner(p, owner);
        }
    }

    /** Saves a VM file as an editor does, the student's from the start: a temporary file renamed over the name. */
    private static void save(BenchWorld world, String user, UserPrincipal owner, String vm, String disk)
            throws IOException {
        Path temporary = world.dir(user).resolve("." + vm + ".swp");
        Files.writeString(temporary, "apiVersion: ie-virsh/v1\nkind: VirtualMachine\nspec:\n  template: bench\n" + disk
                + "  runStrategy: Always\n");
        Files.setOwner(temporary, owner);
        Files.move(temporary, world.dir(user).resolve(vm + ".yaml"), StandardCopyOption.ATOMIC_MOVE);
    }
}
