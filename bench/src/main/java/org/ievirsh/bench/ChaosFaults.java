package org.ievirsh.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.function.Consumer;

/**
 * ChaosFaults injects the faults of {@code bench chaos}, drawn at random
 * for the whole run, several at once: a fault that lasts (a frozen blade, a
 * drain, a broken config, an unreadable directory) is undone when its time
 * is up, and others come meanwhile.
 */
final class ChaosFaults {
    /** The kinds of fault, as the report names them. */
    enum Kind {
        LEADER_KILL("kill -9 of the leader (a new standby started)"),
        LIBVIRTD_RESTART("a blade's libvirtd killed and started again"),
        BLADE_FREEZE("a blade frozen (SIGSTOP), then thawed"),
        DRAIN("a blade drained, then undrained"),
        RELOAD("a valid config reloaded (SIGHUP to both)"),
        RELOAD_INVALID("an invalid config reloaded, then the valid one"),
        UNREADABLE("a student's directory unreadable for a while");

        final String text;

        Kind(String text) {
            this.text = text;
        }
    }

    /** A fault under way: what undoes it, and when. */
    private record Active(Kind kind, String target, Instant until, Undo undo) {
    }

    private interface Undo {
        void run() throws IOException, InterruptedException;
    }

    private final ChaosWorld world;
    private final Random random;
    private final String bladesScript;
    private final Consumer<String> log;
    private final Map<Kind, Integer> injected = new EnumMap<>(Kind.class);
    private final List<Active> active = new ArrayList<>();
    private Instant last = Instant.EPOCH;

    ChaosFaults(ChaosWorld world, Random random, Path bladesScript, Consumer<String> log) {
        this.world = world;
        this.random = random;
        this.bladesScript = bladesScript.toString();
        this.log = log;
    }

    Map<Kind, Integer> injected() {
        return injected;
    }

    /** When the last fault began or ended. */
    Instant last() {
        return last;
    }

    /** Students whose directory is unreadable now: they make no edit meanwhile. */
    boolean unreadable(String student) {
        return active.stream().anyMatch(a -> a.kind() == Kind.UNREADABLE && a.target().equals(student));
    }

    /** Ends the faults whose time is up; starts a new one with probability {@code chance}. */
    void tick(Instant now, double chance) throws IOException, InterruptedException {
        for (Active a : List.copyOf(active)) {
            if (!now.isBefore(a.until())) {
                end(a, now);
            }
        }
        if (random.nextDouble() < chance) {
            start(Kind.values()[random.nextInt(Kind.values().length)], now);
        }
    }

    /** Undoes every fault under way (the end of the run). */
    void endAll(Instant now) throws IOException, InterruptedException {
        for (Active a : List.copyOf(active)) {
            end(a, now);
        }
    }

    private void end(Active a, Instant now) throws IOException, InterruptedException {
        active.remove(a);
        a.undo().run();
        last = now;
        log.accept("end   " + a.kind() + " " + a.target());
    }

    private boolean under(Kind kind) {
        return active.stream().anyMatch(a -> a.kind() == kind);
    }

    private Duration between(int fromSeconds, int toSeconds) {
        return Duration.ofSeconds(fromSeconds + random.nextInt(toSeconds - fromSeconds + 1));
    }

    private void start(Kind kind, Instant now) throws IOException, InterruptedException {
        ChaosWorld.Blade blade = world.blades.get(random.nextInt(world.blades.size()));
        Optional<Active> started = switch (kind) {
            case LEADER_KILL -> killLeader(now);
            case LIBVIRTD_RESTART -> frozen(blade) ? Optional.empty() : instant(kind, blade.name(), now,
                    () -> world.run(List.of(bladesScript, "restart-libvirtd", blade.name())));
            case BLADE_FREEZE -> {
                if (under(kind)) {
                    yield Optional.empty();
                }
                world.run(List.of(bladesScript, "freeze", blade.name()));
                yield Optional.of(new Active(kind, blade.name(), now.plus(between(5, 40)),
                        () -> world.run(List.of(bladesScript, "thaw", blade.name()))));
            }
            case DRAIN -> {
                if (under(kind)) {
                    yield Optional.empty();
                }
                world.drained = blade.name();
                world.reload();
                yield Optional.of(new Active(kind, blade.name(), now.plus(between(20, 90)), () -> {
                    world.drained = null;
                    world.reload();
                }));
            }
            case RELOAD -> instant(kind, "grace " + (3 - world.graceSeconds) + "s", now, () -> {
                world.graceSeconds = 3 - world.graceSeconds;  // 1 s and 2 s by turns: a real change
                world.reload();
            });
            case RELOAD_INVALID -> {
                if (under(kind)) {
                    yield Optional.empty();
                }
                world.broken = true;
                world.reload();
                yield Optional.of(new Active(kind, "", now.plus(between(5, 30)), () -> {
                    world.broken = false;
                    world.reload();
                }));
            }
            case UNREADABLE -> {
                String student = world.students.get(random.nextInt(world.students.size()));
                if (unreadable(student)) {
                    yield Optional.empty();
                }
                Path dir = world.world.dir(student);
                world.run(List.of("chmod", "000", dir.toString()));
                yield Optional.of(new Active(kind, student, now.plus(between(5, 40)),
                        () -> world.run(List.of("chmod", "755", dir.toString()))));
            }
        };
        if (started.isEmpty()) {
            return;
        }
        injected.merge(kind, 1, Integer::sum);
        last = now;
        log.accept("fault " + kind + " " + started.get().target()
                + (started.get().until().equals(now) ? "" : " until +" + Duration.between(now, started.get().until())
                .toSeconds() + " s"));
        if (!started.get().until().equals(now)) {
            active.add(started.get());
        }
    }

    private boolean frozen(ChaosWorld.Blade blade) {
        return active.stream().anyMatch(a -> a.kind() == Kind.BLADE_FREEZE && a.target().equals(blade.name()));
    }

    private static Optional<Active> instant(Kind kind, String target, Instant now, Undo action)
            throws IOException, InterruptedException {
        action.run();
        return Optional.of(new Active(kind, target, now, () -> { }));
    }

    /** The leader killed with SIGKILL; a new controller started at once, as systemd restarts it: a standby. */
    private Optional<Active> killLeader(Instant now) throws IOException, InterruptedException {
        Optional<ChaosWorld.Node> leader = world.leader();
        if (leader.isEmpty()) {
            return Optional.empty();  // a takeover under way: the next draw may kill the new leader
        }
        world.killed.add(leader.get().process().pid());
        leader.get().process().destroyForcibly();
        leader.get().process().waitFor();
        world.supervise(log);  // started again at once, as systemd's Restart=always does: the new standby
        return Optional.of(new Active(Kind.LEADER_KILL, "pid " + leader.get().process().pid(), now, () -> { }));
    }
}
