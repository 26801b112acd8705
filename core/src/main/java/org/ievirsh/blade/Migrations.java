package org.ievirsh.blade;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.logging.Logger;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.libvirt.DomainState;
import org.ievirsh.libvirt.Hypervisor;
import org.ievirsh.libvirt.HypervisorException;
import org.ievirsh.libvirt.StopReason;

/**
 * Migrations moves VMs off draining blades (the README's "The blades as one pool"), on threads of
 * its own: a running VM by live migration over the controller's own
 * connections (its definition with it), a stopped one by its definition.
 * At most {@code migration.parallel} at once; one still running after
 * {@code migration.timeout} is aborted and stays where it was. When a move
 * ends, both blades' views are told at once and the student is woken; a
 * failed move is remembered so that the VM waits a while before the next
 * try. Every decision to move is the planner's: this only carries it out.
 */
public final class Migrations implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Migrations.class.getName());
    /** How long a VM whose move failed waits before it is tried again. */
    public static final Duration RETRY_AFTER = Duration.ofMinutes(2);

    private final Fleet fleet;
    private final Supplier<ControllerConfig.Migration> config;
    private final Clock clock;
    private final Consumer<String> wake;
    private final ExecutorService threads;
    private final ScheduledExecutorService timeouts;
    private final Map<String, Move> under = new ConcurrentHashMap<>();
    private final Map<String, Failure> failures = new ConcurrentHashMap<>();
    private final AtomicInteger running = new AtomicInteger();
    private final Counter succeeded;
    private final Counter failed;
    private final Timer duration;

    /** Move is one VM's move under way. */
    public record Move(String key, String user, String from, String to, String uuid, boolean live, Instant started) {
    }

    /** Failure is why the last move of a VM failed (libvirt's words, for the log), and when. */
    public record Failure(String message, Instant at) {
        /**
         * Why, in the student's words: libvirt's message names UUIDs, flags
         * and storage the student cannot act on (it is in the admin's log).
         */
        public String said() {
            String m = message == null ? "" : message.toLowerCase(java.util.Locale.ROOT);
            if (m.contains("unsafe") || m.contains("shared storage")) {
                return "the blades do not share its disk in a way that allows moving it live (an admin's matter)";
            }
            if (m.contains("cancel") || m.contains("abort")) {
                return "it took longer than the admin allows (migration.timeout) and was stopped; it runs where it was";
            }
            if (m.contains("lock")) {
                return "its disk is held on the other blade";
            }
            if (m.contains("connect") || m.contains("unreachable") || m.contains("no route")) {
                return "the other blade could not be reached";
            }
            return "the move failed (the admin's log says why); it runs where it was";
        }
    }

    public Migrations(Fleet fleet, Supplier<ControllerConfig.Migration> config, MeterRegistry registry, Clock clock,
                      Consumer<String> wake) {
        this.fleet = fleet;
        this.config = config;
        this.clock = clock;
        this.wake = wake;
        AtomicInteger n = new AtomicInteger();
        this.threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "migration-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.timeouts = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "migration-timeouts");
            t.setDaemon(true);
            return t;
        });
        this.succeeded = Counter.builder("ievirsh.migrations").tag("result", "succeeded")
                .description("VM moves off draining blades, by result").register(registry);
        this.failed = Counter.builder("ievirsh.migrations").tag("result", "failed")
                .description("VM moves off draining blades, by result").register(registry);
        this.duration = Timer.builder("ievirsh.migration.duration").publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(100)).maximumExpectedValue(Duration.ofMinutes(30))
                .description("How long a VM's move took").register(registry);
    }

    /** The move of VM {@code key} under way, if any. */
    public Optional<Move> under(String key) {
        return Optional.ofNullable(under.get(key));
    }

    /** The last failed move of {@code key}, while it is recent enough to wait for a retry. */
    public Optional<Failure> recentFailure(String key) {
        Failure f = failures.get(key);
        if (f == null) {
            return Optional.empty();
        }
        if (!clock.instant().isBefore(f.at().plus(RETRY_AFTER))) {
            failures.remove(key, f);
            return Optional.empty();
        }
        return Optional.of(f);
    }

    /** True while fewer than {@code migration.parallel} moves are under way. */
    public boolean slotFree() {
        return running.get() < config.get().parallel();
    }

    /** How many more moves may start now. */
    public int freeSlots() {
        return Math.max(0, config.get().parallel() - running.get());
    }

    /** Moves under way now. */
    public int underWay() {
        return running.get();
    }

    /**
     * Starts a move if a slot is free; false when none is (try again in a
     * moment). The VM's room on {@code to} was reserved by the placement.
     */
    public synchronized boolean start(String key, String user, String from, String to, String uuid, boolean live) {
        if (under.containsKey(key)) {
            return true;
        }
        if (!slotFree()) {
            return false;
        }
        Move move = new Move(key, user, from, to, uuid, live, clock.instant());
        under.put(key, move);
        running.incrementAndGet();
        threads.execute(() -> run(move));
        return true;
    }

    private void run(Move move) {
        ControllerConfig.Migration settings = config.get();
        Optional<Blade> source = fleet.blade(move.from());
        Optional<Blade> destination = fleet.blade(move.to());
        ScheduledFuture<?> timeout = null;
        long t0 = System.nanoTime();
        try {
            Hypervisor from = source.flatMap(Blade::hypervisor).orElseThrow(() -> new HypervisorException(
                    HypervisorException.Kind.CONNECTION_LOST, "blade " + move.from() + " is unreachable"));
            Hypervisor to = destination.flatMap(Blade::hypervisor).orElseThrow(() -> new HypervisorException(
                    HypervisorException.Kind.CONNECTION_LOST, "blade " + move.to() + " is unreachable"));
            LOG.info(move.key() + ": moving from " + move.from() + " to " + move.to()
                    + (move.live() ? " (live)" : " (its definition)"));
            if (move.live()) {
                timeout = timeouts.schedule(() -> abort(from, move), settings.timeout().toMillis(),
                        TimeUnit.MILLISECONDS);
            }
            ObservedDomain before = source.get().view().get(move.uuid()).orElse(null);
            from.migrate(move.uuid(), to, move.live(), new Hypervisor.MoveOptions(
                    migrationUri(destination.get().config()), settings.bandwidthMiBs(), settings.unsafe()));
            // Both views know at once: the domain is there now, not here (events confirm it later). A live move
            // whose last step failed leaves the source paused, though the call succeeded: the view keeps that
            // copy, and the VM's next pass removes it beside the running guest.
            Optional<org.ievirsh.libvirt.DomainSummary> left = move.live() ? leftBehind(from, move)
                    : Optional.empty();
            if (left.isPresent() && before != null) {
                LOG.warning(move.key() + ": libvirt left its domain on " + move.from() + " (" + left.get().state()
                        + ") after the move; it is removed at the VM's next pass");
                source.get().view().put(before.withState(left.get().state(), StopReason.UNKNOWN));
            } else {
                source.get().view().remove(move.uuid());
            }
            if (before != null) {
                destination.get().view().put(new ObservedDomain(move.to(), move.uuid(), before.name(),
                        move.live() ? DomainState.RUNNING : DomainState.SHUTOFF,
                        move.live() ? StopReason.UNKNOWN : before.stopReason(), before.config(),
                        before.liveRenderHash(), before.drifted()));
            }
            failures.remove(move.key());
            succeeded.increment();
            duration.record(Duration.ofNanos(System.nanoTime() - t0));
            LOG.info(move.key() + ": moved from " + move.from() + " to " + move.to() + " in "
                    + Duration.ofNanos(System.nanoTime() - t0).toMillis() + " ms");
        } catch (HypervisorException | RuntimeException e) {
            failures.put(move.key(), new Failure(e.getMessage(), clock.instant()));
            failed.increment();
            LOG.warning(move.key() + ": the move from " + move.from() + " to " + move.to() + " failed: "
                    + e.getMessage() + "; it stays on " + move.from() + " and is tried again later");
        } finally {
            if (timeout != null) {
                timeout.cancel(false);
            }
            fleet.release(move.key());
            under.remove(move.key());
            running.decrementAndGet();
            wake.accept(move.user());
        }
    }

    private static Optional<org.ievirsh.libvirt.DomainSummary> leftBehind(Hypervisor from, Move move) {
        try {
            return from.lookup(move.uuid());
        } catch (HypervisorException e) {
            return Optional.empty();  // the next listing tells
        }
    }

    private void abort(Hypervisor from, Move move) {
        LOG.warning(move.key() + ": the move to " + move.to() + " took longer than migration.timeout; aborting it");
        try {
            from.abortJob(move.uuid());
        } catch (HypervisorException e) {
            LOG.warning(move.key() + ": cannot abort the move: " + e.getMessage());
        }
    }

    /**
     * Where QEMU on the source sends the guest's memory: the blade's
     * {@code migrationUri} if the admin gave one, else {@code tcp://} and the
     * host of its libvirt URI (none for a local URI: libvirt's choice).
     */
    public static Optional<String> migrationUri(ControllerConfig.Blade blade) {
        if (blade.migrationUri().isPresent()) {
            return blade.migrationUri();
        }
        try {
            String host = URI.create(blade.uri()).getHost();
            return host == null || host.isEmpty() ? Optional.empty() : Optional.of("tcp://" + host);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    @Override
    public void close() {
        threads.shutdownNow();
        timeouts.shutdownNow();
    }
}
