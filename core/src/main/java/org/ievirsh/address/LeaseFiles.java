package org.ievirsh.address;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.logging.Logger;
import org.ievirsh.posix.Inotify;
import org.ievirsh.posix.PosixException;

/**
 * LeaseFiles keeps the leases of the admin's DHCP lease files in memory and
 * up to date: inotify on each file's directory (servers replace the file by
 * rename, or keep it open and append), a short debounce, one read of the
 * changed file (at most {@link #MAX_BYTES}), and a look at every file each
 * minute in case an event was missed (a file that stats as it did when it
 * was read is not read again; its leases that ended are dropped). Whoever
 * listens hears the MACs whose lease changed. A missing, unreadable or
 * unknown file is a log line (when that begins and when it ends) and a
 * count, never a failure.
 *
 * <p>A MAC with leases in force to two addresses or more, in one file or
 * across files, has no lease here ({@link #lease} says none): a guest can
 * send another VM's MAC and get a lease of its own for it, and nothing in
 * the file tells which lease is the VM's. Such MACs are logged when they
 * begin to be contested and counted ({@link #contested}); the VM's address
 * then comes from the sources that only it can speak for (its agent, the
 * blade's neighbour table).
 */
public final class LeaseFiles implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LeaseFiles.class.getName());
    /** MAX_BYTES bounds one read: a department's lease file is a few MiB; the rest of a larger one is left. */
    public static final int MAX_BYTES = 64 << 20;
    private static final long DEBOUNCE_MILLIS = 50;
    private static final long RESCAN_SECONDS = 60;

    private final List<Path> files;
    private final Clock clock;
    private final Consumer<Set<String>> changed;
    private final ScheduledExecutorService thread;
    private final Map<Path, Map<String, Lease>> byFile = new ConcurrentHashMap<>();
    /** Per file, the MACs with leases in force to more than one address, with all of them. */
    private final Map<Path, Map<String, List<Lease>>> rivalsByFile = new ConcurrentHashMap<>();
    private final Map<Path, String> problems = new ConcurrentHashMap<>();
    /** The version (see {@link #version}) of each file as it was when last read whole. */
    private final Map<Path, String> versions = new ConcurrentHashMap<>();
    private final Map<Path, ScheduledFuture<?>> pending = new ConcurrentHashMap<>();
    private final AtomicLong errors = new AtomicLong();
    private volatile Map<String, Lease> merged = Map.of();
    /** The MACs whose leases are contested now, with the addresses they hold. */
    private volatile Map<String, Set<String>> contested = Map.of();
    private Inotify inotify;

    public LeaseFiles(List<Path> files, Clock clock, Consumer<Set<String>> changed) {
        this.files = List.copyOf(files);
        this.clock = clock;
        this.changed = changed;
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "lease-files");
            t.setDaemon(true);
            return t;
        });
    }

    /** Reads every file once (before returning), then watches them. */
    public void start() {
        for (Path file : files) {
            read(file);
        }
        merge();
        if (files.isEmpty()) {
            return;
        }
        try {
            inotify = new Inotify("lease-files-watch", this::heard);
            watchDirectories();
        } catch (PosixException e) {
            LOG.warning("lease files: cannot watch them (" + e.getMessage() + "); they are read every "
                    + RESCAN_SECONDS + " s");
        }
        thread.scheduleWithFixedDelay(this::rescan, RESCAN_SECONDS, RESCAN_SECONDS, TimeUnit.SECONDS);
    }

    private void watchDirectories() {
        if (inotify == null) {
            return;
        }
        for (Path file : files) {
            Path dir = file.toAbsolutePath().getParent();
            inotify.watch(dir.toString(), dir.toString(), Inotify.MODIFIED);
        }
    }

    private void heard(String directory, String name) {
        for (Path file : files) {
            if (file.toAbsolutePath().getParent().toString().equals(directory)
                    && (name.isEmpty() || file.getFileName().toString().equals(name))) {
                pending.computeIfAbsent(file, f -> thread.schedule(() -> {
                    pending.remove(f);
                    if (read(f)) {
                        merge();
                    }
                    if (name.isEmpty()) {
                        watchDirectories();  // the directory itself went: watch its successor
                    }
                }, DEBOUNCE_MILLIS, TimeUnit.MILLISECONDS));
            }
        }
    }

    void rescan() {
        boolean any = false;
        watchDirectories();
        for (Path file : files) {
            // A file that stats as it did when it was last read need not be read again (a 40,000-lease file is a
            // few MiB to parse); only its leases that ended since are dropped.
            any |= version(file).equals(versions.get(file)) ? expire(file) : read(file);
        }
        if (any) {
            merge();
        }
    }

    /**
     * The file's identity, size and times (following a link, as its read
     * does); empty when it cannot be told, or when it changed within the
     * last two seconds (a second change within the same clock tick could
     * leave them all as they were).
     */
    private static String version(Path file) {
        try {
            Map<String, Object> a = Files.readAttributes(file, "unix:dev,ino,size,lastModifiedTime,ctime");
            java.nio.file.attribute.FileTime ctime = (java.nio.file.attribute.FileTime) a.get("ctime");
            if (System.currentTimeMillis() - ctime.toMillis() < 2000) {
                return "";
            }
            return a.get("dev") + ":" + a.get("ino") + ":" + a.get("size") + ":" + a.get("lastModifiedTime") + ":"
                    + ctime;
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    /** Drops the leases of an unchanged file that ended since it was read; true when there were any. */
    private boolean expire(Path file) {
        Map<String, Lease> before = byFile.getOrDefault(file, Map.of());
        Map<String, List<Lease>> rivals = rivalsByFile.getOrDefault(file, Map.of());
        Instant now = clock.instant();
        if (before.values().stream().allMatch(lease -> lease.activeAt(now))
                && rivals.values().stream().flatMap(List::stream).allMatch(lease -> lease.activeAt(now))) {
            return false;
        }
        List<Lease> still = new java.util.ArrayList<>();
        rivals.values().forEach(leases -> leases.stream().filter(l -> l.activeAt(now)).forEach(still::add));
        rivalsByFile.put(file, LeaseParser.rivals(still));
        Map<String, Lease> active = new HashMap<>();
        before.forEach((mac, lease) -> {
            if (lease.activeAt(now)) {
                active.put(mac, lease);
            }
        });
        byFile.put(file, Map.copyOf(active));
        return true;
    }

    /** Reads one file; true when its leases differ from what was known. */
    private boolean read(Path file) {
        Map<String, Lease> leases;
        String version = version(file);
        versions.remove(file);
        try {
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(file)) {
                throw new IOException(Files.exists(file) ? "not a regular file" : "no such file");
            }
            byte[] bytes;
            try (InputStream in = Files.newInputStream(file)) {
                bytes = in.readNBytes(MAX_BYTES);
                if (in.read() >= 0) {
                    problem(file, "larger than " + (MAX_BYTES >> 20) + " MiB: only the first "
                            + (MAX_BYTES >> 20) + " MiB are read");
                }
            }
            LeaseParser.Result result = LeaseParser.parse(bytes, clock.instant());
            if (result.format() == LeaseParser.Format.UNKNOWN) {
                throw new IOException("not a lease file of ISC dhcpd, dnsmasq or Kea");
            }
            leases = result.byMac();
            rivalsByFile.put(file, result.rivals());
            cleared(file);
            if (!version.isEmpty() && version.equals(version(file))) {
                versions.put(file, version);  // the file read is the one that stat told of
            }
        } catch (IOException | RuntimeException e) {
            problem(file, e.getMessage());
            leases = Map.of();
            rivalsByFile.remove(file);
        }
        Map<String, Lease> before = byFile.put(file, leases);
        return !Objects.equals(before, leases);
    }

    private void problem(Path file, String message) {
        errors.incrementAndGet();
        if (!Objects.equals(problems.put(file, message), message)) {
            LOG.warning("lease file " + file + ": " + message + "; its leases are not used until it can be read");
        }
    }

    private void cleared(Path file) {
        if (problems.remove(file) != null) {
            LOG.info("lease file " + file + " reads again");
        }
    }

    private void merge() {
        Map<String, Lease> all = new HashMap<>();
        Map<String, Set<String>> addresses = new HashMap<>();
        for (Path file : files) {
            for (Lease lease : byFile.getOrDefault(file, Map.of()).values()) {
                all.merge(lease.mac(), lease, (a, b) -> a.ends().isEmpty() || (b.ends().isPresent()
                        && !b.ends().get().isAfter(a.ends().get())) ? a : b);
                addresses.computeIfAbsent(lease.mac(), m -> new java.util.TreeSet<>()).add(lease.ip());
            }
            rivalsByFile.getOrDefault(file, Map.of()).forEach((mac, leases) -> leases.forEach(l ->
                    addresses.computeIfAbsent(mac, m -> new java.util.TreeSet<>()).add(l.ip())));
        }
        Map<String, Set<String>> rivals = new HashMap<>();
        addresses.forEach((mac, ips) -> {
            if (ips.size() > 1) {
                rivals.put(mac, Set.copyOf(ips));
                all.remove(mac);
            }
        });
        Map<String, Set<String>> contestedBefore = contested;
        contested = Map.copyOf(rivals);
        rivals.forEach((mac, ips) -> {
            if (!contestedBefore.containsKey(mac)) {
                LOG.warning("lease files: " + mac + " holds leases to " + new java.util.TreeSet<>(ips) + " at once;"
                        + " no lease of that MAC is believed while this lasts (a guest may have taken another VM's"
                        + " MAC): the VM's address comes from its agent or the blade's neighbour table");
            }
        });
        Map<String, Lease> before = merged;
        merged = Map.copyOf(all);
        Set<String> macs = new HashSet<>();
        for (Map.Entry<String, Lease> e : all.entrySet()) {
            if (!e.getValue().equals(before.get(e.getKey()))) {
                macs.add(e.getKey());
            }
        }
        for (String mac : before.keySet()) {
            if (!all.containsKey(mac)) {
                macs.add(mac);
            }
        }
        if (!macs.isEmpty()) {
            changed.accept(Set.copyOf(macs));
        }
    }

    /** The lease of {@code mac} now, if a file holds one (its end is checked by whoever reads it). */
    public Lease lease(String mac) {
        return merged.get(mac);
    }

    /** How many MACs hold leases to more than one address now (none of them believed). */
    public int contested() {
        return contested.size();
    }

    /** Failed reads so far (missing, unreadable, too large, not a lease file). */
    public long errors() {
        return errors.get();
    }

    @Override
    public void close() {
        thread.shutdownNow();
        if (inotify != null) {
            inotify.close();
        }
    }
}
