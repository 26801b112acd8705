package org.ievirsh.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * ChaosChecks are the invariants {@code bench chaos} checks throughout the
 * run, from outside the controller: the students' files and images are as
 * the students left them; no disk is open in two QEMUs; no QEMU has
 * another student's image open; no VM is defined on two blades; no student
 * runs more VMs than the quota allows.
 *
 * <p>Some states are allowed for a moment by design: a live migration has
 * the disk open in two QEMUs (the lock engine hands its lease over) and the
 * VM defined on both blades until it ends; a VM being stopped still runs
 * for its grace period. Those become violations when they outlast
 * {@link #WINDOWS} (longer than the config's migration timeout of 30 s and
 * its grace period), and each is counted once, however long it lasts.
 */
final class ChaosChecks {
    /** How long each kind of state may last before it is a violation. */
    static final Map<String, Duration> WINDOWS = Map.of("disk open in two QEMUs", Duration.ofSeconds(45),
            "VM defined on two blades", Duration.ofSeconds(45), "running VMs over the quota", Duration.ofSeconds(10));

    /** A violation: what, and when it was first seen. */
    record Violation(String what, Instant since) {
    }

    private final ChaosWorld world;
    private final Map<String, Instant> suspects = new HashMap<>();
    private final Map<String, Violation> violations = new LinkedHashMap<>();
    private final Map<String, Integer> made = new TreeMap<>();

    ChaosChecks(ChaosWorld world) {
        this.world = world;
    }

    /** Checks made, by invariant. */
    Map<String, Integer> made() {
        return made;
    }

    List<Violation> violations() {
        return new ArrayList<>(violations.values());
    }

    /** Checks every invariant once; returns the violations found now for the first time. */
    List<Violation> check(Instant now) {
        int before = violations.size();
        Set<String> seen = new TreeSet<>();
        files(now);
        qemus(now, seen);
        blades(now, seen);
        suspects.keySet().retainAll(seen);
        return new ArrayList<>(violations.values()).subList(before, violations.size());
    }

    private void count(String invariant) {
        made.merge(invariant, 1, Integer::sum);
    }

    private void violated(String key, String what, Instant since) {
        violations.putIfAbsent(key, new Violation(what, since));
    }

    /** A state allowed for its window: a violation once it has lasted longer. */
    private void suspect(String kind, String key, String what, Instant now, Set<String> seen) {
        seen.add(key);
        Instant since = suspects.computeIfAbsent(key, k -> now);
        if (Duration.between(since, now).compareTo(WINDOWS.get(kind)) > 0) {
            violated(key, kind + ": " + what + " (for " + Duration.between(since, now).toSeconds() + " s)", since);
        }
    }

    /** Every student file and image is what its student last made it, or absent if they removed it. */
    private void files(Instant now) {
        synchronized (world) {  // not while a student writes
            for (Map.Entry<Path, Optional<ChaosWorld.Expect>> e : world.expected.entrySet()) {
                file(e.getKey(), e.getValue(), now);
            }
        }
    }

    private void file(Path path, Optional<ChaosWorld.Expect> expected, Instant now) {
        count("student files unchanged");
        Optional<ChaosWorld.Expect> actual;
        try {
            actual = Optional.of(ChaosWorld.look(path));
        } catch (NoSuchFileException gone) {
            actual = Optional.empty();
        } catch (IOException unreadable) {
            violated("file " + path, path + " cannot be read: " + unreadable, now);
            return;
        }
        if (!actual.equals(expected)) {
            violated("file " + path + " " + actual, path + " changed: the student left "
                    + expected.map(Object::toString).orElse("nothing") + ", it is "
                    + actual.map(Object::toString).orElse("gone"), now);
        }
    }

    /** From /proc: which QEMU has which of the students' images open. */
    private void qemus(Instant now, Set<String> seen) {
        Path images = world.world.root().resolve("images");
        Map<Path, List<String>> openBy = new TreeMap<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString()
                .chars().allMatch(Character::isDigit))) {
            for (Path proc : procs) {
                Optional<String> guest = guestName(proc);
                if (guest.isEmpty()) {
                    continue;
                }
                String owner = guest.get().contains("-") ? guest.get().substring(0, guest.get().indexOf('-')) : "";
                for (Path disk : openImages(proc, images)) {
                    count("no image of another student's");
                    openBy.computeIfAbsent(disk, d -> new ArrayList<>()).add(guest.get() + " (pid "
                            + proc.getFileName() + ")");
                    if (!disk.startsWith(images.resolve(owner))) {
                        violated("owner " + guest.get() + " " + disk, "QEMU of " + guest.get() + " has " + disk
                                + " open, another student's image", now);
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc", e);
        }
        openBy.forEach((disk, qemus) -> {
            count("no disk open in two QEMUs");
            if (qemus.size() > 1) {
                suspect("disk open in two QEMUs", "disk " + disk + " " + qemus, disk + " by " + qemus, now, seen);
            }
        });
    }

    /** The guest name of a QEMU process ({@code -name guest=NAME,...}), if {@code proc} is one. */
    private static Optional<String> guestName(Path proc) {
        try {
            if (!Files.readString(proc.resolve("comm")).startsWith("qemu-system")) {
                return Optional.empty();
            }
            String[] args = new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8).split("\0");
            for (int i = 0; i + 1 < args.length; i++) {
                if (args[i].equals("-name")) {
                    String name = args[i + 1].startsWith("guest=") ? args[i + 1].substring(6) : args[i + 1];
                    return Optional.of(name.split(",")[0]);
                }
            }
        } catch (IOException e) {
            // gone meanwhile
        }
        return Optional.empty();
    }

    private static List<Path> openImages(Path proc, Path images) {
        List<Path> disks = new ArrayList<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve("fd"))) {
            for (Path fd : fds) {
                try {
                    Path target = Files.readSymbolicLink(fd);
                    if (target.startsWith(images) && !disks.contains(target)) {
                        disks.add(target);
                    }
                } catch (IOException e) {
                    // closed meanwhile
                }
            }
        } catch (IOException e) {
            // gone meanwhile
        }
        return disks;
    }

    /** From each blade that answers within 5 s: the students' domains defined and running. */
    private void blades(Instant now, Set<String> seen) {
        Map<String, List<String>> definedOn = new TreeMap<>();
        Map<String, Set<String>> runningOf = new TreeMap<>();
        for (ChaosWorld.Blade blade : world.blades) {
            // "Id Name State" lines: the state tells a move's paused leftover from a second definition.
            Optional<String> defined = ChaosWorld.output(List.of("virsh", "-q", "-c", blade.uri(), "list", "--all",
                    "--persistent"));
            Optional<String> running = ChaosWorld.output(List.of("virsh", "-q", "-c", blade.uri(), "list", "--name"));
            if (defined.isEmpty() || running.isEmpty()) {
                continue;  // frozen or restarting: it is looked at again in the next check
            }
            for (String line : defined.get().lines().map(String::strip).toList()) {
                String[] columns = line.split("\\s+", 3);
                if (columns.length == 3 && columns[1].startsWith(ChaosWorld.PREFIX)) {
                    definedOn.computeIfAbsent(columns[1], k -> new ArrayList<>())
                            .add(blade.name() + " (" + columns[2] + ")");
                }
            }
            running.get().lines().map(String::strip).filter(n -> n.startsWith(ChaosWorld.PREFIX) && n.contains("-"))
                    .forEach(n -> runningOf.computeIfAbsent(n.substring(0, n.indexOf('-')), k -> new TreeSet<>())
                            .add(n));
        }
        definedOn.forEach((name, on) -> {
            count("no VM defined on two blades");
            if (on.size() > 1) {
                suspect("VM defined on two blades", "blades " + name, name + " on " + on, now, seen);
            }
        });
        for (String student : world.students) {
            count("running VMs within the quota");
            Set<String> running = runningOf.getOrDefault(student, Set.of());
            if (running.size() > ChaosWorld.QUOTA_RUNNING) {
                suspect("running VMs over the quota", "quota " + student, student + " runs " + running, now, seen);
            }
        }
    }
}
