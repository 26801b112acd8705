package org.ievirsh.snapshot;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.logging.Logger;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.Quantities;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.blade.Blade;
import org.ievirsh.blade.Fleet;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.console.ConsoleVms;
import org.ievirsh.image.AsStudent;
import org.ievirsh.libvirt.Hypervisor;
import org.ievirsh.libvirt.HypervisorException;
import org.ievirsh.posix.Account;
import org.ievirsh.posix.Nss;
import org.ievirsh.status.StatusBook;

/**
 * SnapshotDesk answers a student's snapshot requests over the control
 * socket: it gathers what is known of the VM (its domain, its status, its
 * blade, the snapshots its image holds, read by {@code qemu-img} as the
 * student), lets {@link SnapshotPlanner} decide, and carries it out. No
 * root process opens the student's image: a running VM's snapshots are
 * QEMU's work (through libvirt), a stopped one's {@code qemu-img}'s, run with
 * the student's rights alone. One request per VM at a time.
 */
public final class SnapshotDesk {
    private static final Logger LOG = Logger.getLogger(SnapshotDesk.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration QEMU_IMG = Duration.ofMinutes(5);

    private final Supplier<ControllerConfig> config;
    private final Fleet fleet;
    private final StatusBook book;
    private final MeterRegistry registry;
    private final Consumer<String> changed;
    private final Map<String, Object> busy = new ConcurrentHashMap<>();

    /** {@code changed} learns of a user whose image a request changed (their disk quota's use moved). */
    public SnapshotDesk(Supplier<ControllerConfig> config, Fleet fleet, StatusBook book, MeterRegistry registry,
                        Consumer<String> changed) {
        this.config = config;
        this.fleet = fleet;
        this.book = book;
        this.registry = registry;
        this.changed = changed;
    }

    /** Answers {@code op} on {@code user}'s (uid {@code uid}) {@code vm}: the lines of the answer, or a refusal. */
    public ConsoleVms.Listing handle(SnapshotPlanner.Op op, String user, int uid, String vm, String label) {
        String key = user + "/" + vm;
        if (busy.putIfAbsent(key, key) != null) {
            return count(op, "refused", ConsoleVms.Listing.refused("another snapshot request of " + vm
                    + " is under way; try again when it is done"));
        }
        try {
            return answer(op, user, uid, vm, label);
        } finally {
            busy.remove(key);
        }
    }

    private ConsoleVms.Listing answer(SnapshotPlanner.Op op, String user, int uid, String vm, String label) {
        Optional<ObservedDomain> domain = fleet.domainsOf(user).stream()
                .filter(d -> d.config().vm().equals(vm) && d.config().uid() == uid).findFirst();
        VmStatus status = book.ofUser(user).get(vm);
        if (domain.isEmpty() || status == null || status.image() == null) {
            return count(op, "refused", ConsoleVms.Listing.refused("there is no VM " + vm + " of yours with a"
                    + " disk yet (ie-virsh list shows yours)"));
        }
        Optional<Account> account = Nss.byUid(uid);
        Optional<Hypervisor> hypervisor = fleet.blade(domain.get().blade()).flatMap(Blade::hypervisor);
        if (account.isEmpty() || hypervisor.isEmpty()) {
            return count(op, "failed", ConsoleVms.Listing.refused(account.isEmpty()
                    ? "your account cannot be resolved now; try again later"
                    : "the blade of " + vm + " cannot be reached now; try again later"));
        }
        int gid = account.get().gid();
        Path image = Path.of(status.image());
        try {
            List<SnapshotPlanner.Snapshot> inImage = inImage(uid, gid, image);
            String uuid = domain.get().uuid();
            SnapshotPlanner.Facts facts = new SnapshotPlanner.Facts(vm, hold(vm, status, domain.get()),
                    domain.get().isActive(), inImage, new HashSet<>(hypervisor.get().snapshotNames(uuid)),
                    config.get().snapshots().maxPerVm());
            SnapshotPlanner.Plan plan = SnapshotPlanner.plan(op, label, facts);
            if (plan instanceof SnapshotPlanner.Plan.Refused refused) {
                return count(op, "refused", ConsoleVms.Listing.refused(refused.message()));
            }
            if (plan instanceof SnapshotPlanner.Plan.List) {
                return count(op, "ok", ConsoleVms.Listing.of(lines(inImage)));
            }
            if (plan instanceof SnapshotPlanner.Plan.Libvirt call) {
                switch (call.op()) {
                    case CREATE -> hypervisor.get().snapshotCreate(uuid, label);
                    case REVERT -> hypervisor.get().snapshotRevert(uuid, label);
                    case DELETE -> hypervisor.get().snapshotDelete(uuid, label);
                    default -> throw new IllegalStateException(call.op().name());
                }
            } else if (plan instanceof SnapshotPlanner.Plan.QemuImg run) {
                AsStudent.Result done = AsStudent.exec(uid, gid, Path.of("/"), List.of("qemu-img", "snapshot",
                        run.flag(), label, image.toString()), Map.of(), 4096, QEMU_IMG);
                if (!done.ok()) {
                    return count(op, "failed", ConsoleVms.Listing.refused("qemu-img could not "
                            + op.metric() + " " + vm + ": " + oneLine(done.text())));
                }
                if (run.forgetRecord()) {
                    hypervisor.get().snapshotForget(uuid, label);
                }
            }
            LOG.info("snapshot: uid " + uid + " " + op.metric() + " " + user + "/" + vm + " " + label);
            changed.accept(user);
            return count(op, "ok", ConsoleVms.Listing.of(List.of(op.metric() + " " + label + ": done")));
        } catch (HypervisorException e) {
            return count(op, "failed", ConsoleVms.Listing.refused("libvirt could not " + op.metric() + " " + vm
                    + ": " + oneLine(e.getMessage())));
        } catch (IOException e) {
            return count(op, "failed", ConsoleVms.Listing.refused("the snapshots of " + vm + " cannot be read"
                    + " now: " + oneLine(e.getMessage())));
        }
    }

    /** Why nothing may be done to the VM now, if so. */
    private Optional<String> hold(String vm, VmStatus status, ObservedDomain domain) {
        if (status.phase() == Phase.Migrating) {
            return Optional.of(vm + " is moving to another blade; try again once it is there");
        }
        if (fleet.blade(domain.blade()).map(b -> b.config().drain()).orElse(false)) {
            return Optional.of("the blade of " + vm + " is being drained; try again once " + vm + " moved");
        }
        if (status.phase() == Phase.Expired) {
            return Optional.of(vm + " has expired (its course ended); nothing is done to it");
        }
        return Optional.empty();
    }

    /** The snapshots the image holds, read by qemu-img as the student (without waiting for QEMU's lock). */
    private static List<SnapshotPlanner.Snapshot> inImage(int uid, int gid, Path image) throws IOException {
        AsStudent.Result info = AsStudent.exec(uid, gid, Path.of("/"), List.of("qemu-img", "info", "-U",
                "--output=json", image.toString()), Map.of(), 1 << 20, Duration.ofSeconds(30));
        if (!info.ok()) {
            throw new IOException(info.text());
        }
        JsonNode root = JSON.readTree(info.output());
        List<SnapshotPlanner.Snapshot> found = new ArrayList<>();
        for (JsonNode s : root.path("snapshots")) {
            found.add(new SnapshotPlanner.Snapshot(s.path("name").asText(), s.path("date-sec").asLong(),
                    s.path("vm-state-size").asLong()));
        }
        return found;
    }

    private static List<String> lines(List<SnapshotPlanner.Snapshot> snapshots) {
        List<String> lines = new ArrayList<>();
        for (SnapshotPlanner.Snapshot s : snapshots) {
            lines.add(String.join("\t", s.name(), Instant.ofEpochSecond(s.createdEpochSeconds()).toString(),
                    s.memoryBytes() > 0 ? "running" : "stopped", Quantities.readable(s.memoryBytes())));
        }
        return lines;
    }

    private ConsoleVms.Listing count(SnapshotPlanner.Op op, String result, ConsoleVms.Listing listing) {
        Counter.builder("ievirsh.snapshot.requests").tag("op", op.metric()).tag("result", result)
                .description("Students' snapshot requests, by op and how they ended").register(registry).increment();
        return listing;
    }

    private static String oneLine(String text) {
        String line = text == null ? "" : text.strip().replace('\n', ' ');
        return line.length() > 300 ? line.substring(0, 300) + "..." : line;
    }
}
