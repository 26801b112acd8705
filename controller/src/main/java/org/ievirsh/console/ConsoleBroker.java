package org.ievirsh.console;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jdk.net.ExtendedSocketOptions;
import org.ievirsh.libvirt.ConsoleStream;
import org.ievirsh.libvirt.HypervisorException;
import org.ievirsh.posix.Account;
import org.ievirsh.posix.LockFile;

/**
 * ConsoleBroker connects students to their VMs' serial consoles (the README:
 * "Reaching your VM") through a UNIX socket every local user may open. Who is asking comes
 * from the kernel ({@code SO_PEERCRED}), never from the request; the request
 * is one line, {@code CONSOLE <vm>[ FORCE]}, naming one of the caller's own
 * VMs (root, and an instructor of the VM's course, may name
 * {@code <user>/<vm>}); the answer is {@code OK} and then the console's bytes
 * both ways, or {@code ERROR <message>} and the end. {@code LIST <course>}
 * answers an instructor {@code OK}, a line per VM of the course and a blank
 * line (the README's "Courses"). The
 * stream is opened over a libvirt connection of its own to the VM's blade,
 * made for the session and closed with it: whatever one session does (a
 * paste the guest never reads, a flood nobody reads), the controller's own
 * connection to that blade, and every other student's session, go on.
 *
 * <p>Bounds, so that no one caller stops the service for the others: one
 * session per VM ({@code FORCE} ends the one before, at most once per
 * {@link #TAKEOVER_EVERY} per VM), at most {@code maxSessionsPerUser}
 * sessions per user, opened at most that many at once and then one a second
 * (each opens a connection to a blade), at most that many and {@link #PENDING_PER_USER} more
 * connections per user (refused at once beyond, without waiting for a
 * request), at most {@link #MAX_CONNECTIONS} connections in all; a request
 * line must come within {@link #REQUEST_WITHIN}. Every refusal is counted
 * and logged with the caller's name (connections refused in bulk once a
 * {@link #LOG_EVERY}). A session ends when the student disconnects, the VM
 * stops, the blade goes or another session takes over, and leaves no
 * thread, stream or descriptor behind; no libvirt call is made under a
 * lock that another caller needs.
 */
public final class ConsoleBroker implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ConsoleBroker.class.getName());
    /** MAX_CONNECTIONS bounds the connections served at once, sessions and pending requests alike. */
    public static final int MAX_CONNECTIONS = 256;
    /** REQUEST_WITHIN is how long a connection may take to send its request line. */
    public static final Duration REQUEST_WITHIN = Duration.ofSeconds(5);
    /** PENDING_PER_USER is how many connections a user may have beyond their sessions (requests on the way). */
    public static final int PENDING_PER_USER = 4;
    /** TAKEOVER_EVERY is how often one VM's console may be taken over by {@code FORCE}, at most. */
    public static final Duration TAKEOVER_EVERY = Duration.ofSeconds(1);
    /** OPEN_EVERY is how often a user may open one more console once they opened as many as they may hold. */
    public static final Duration OPEN_EVERY = Duration.ofSeconds(1);
    /** LOG_EVERY is how often connections refused in bulk are logged (counted always). */
    static final Duration LOG_EVERY = Duration.ofSeconds(10);
    private static final int MAX_REQUEST = 256;
    private static final Pattern REQUEST = Pattern.compile(
            "CONSOLE (?:([A-Za-z0-9_][A-Za-z0-9_.-]{0,63})/)?([a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?)( FORCE)?");
    private static final Pattern LIST = Pattern.compile("LIST ([a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?)");
    private static final String NAME = "[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?";
    private static final Pattern SNAPSHOT = Pattern.compile("(SNAPSHOT|REVERT|DELETE-SNAPSHOT) (" + NAME + ") ("
            + NAME + ")|SNAPSHOTS (" + NAME + ")");
    /** LIST_LINES bounds the lines of one LIST answer (a course of that many VMs is answered whole). */
    static final int LIST_LINES = 100_000;

    /** Target is a VM as the controller knows it: where its domain runs, if it runs. */
    public record Target(String blade, String uuid, boolean running) {
    }

    /** Vms is what the broker asks of the controller. */
    public interface Vms {
        /** The VM {@code vm} of {@code user} (the account of {@code uid}: never an older one of that name). */
        Optional<Target> find(String user, int uid, String vm);

        /**
         * Opens the serial console of domain {@code uuid} on {@code blade}
         * over a connection of its own (closed with the stream); with
         * {@code force}, a session someone else has open ends.
         */
        ConsoleStream open(String blade, String uuid, boolean force) throws HypervisorException;

        /** False on a standby controller: only the leader serves consoles. */
        boolean leading();

        /**
         * The course through which {@code caller} may open {@code student}'s
         * {@code vm}: a course VM of the student's, of a course the caller
         * teaches now (NSS asked now). Empty: none.
         */
        default Optional<String> teaching(String caller, String student, String vm) {
            return Optional.empty();
        }

        /** The lines answering {@code LIST course} for {@code caller}, or why not. */
        default Listing list(String caller, String course) {
            return Listing.refused("there is no course " + course);
        }

        /**
         * Answers a snapshot request ({@code op}: SNAPSHOT, SNAPSHOTS,
         * REVERT or DELETE-SNAPSHOT) on the caller's own {@code vm}.
         */
        default Listing snapshot(String op, String user, int uid, String vm, String label) {
            return Listing.refused("snapshots are not served here");
        }

        /** An instructor's session on {@code student}'s {@code vm} opened ({@code open}) or ended. */
        default void watching(String student, String vm, String who, boolean open) {
        }
    }

    /** Listing is the answer to a {@code LIST}: its lines, or the refusal's message. */
    public record Listing(java.util.List<String> lines, String refusal) {
        public static Listing of(java.util.List<String> lines) {
            return new Listing(lines, null);
        }

        public static Listing refused(String why) {
            return new Listing(java.util.List.of(), why);
        }
    }

    private final Path socket;
    private final int maxPerUser;
    private final Vms vms;
    private final Function<String, Optional<Account>> accounts;
    private final Semaphore connections = new Semaphore(MAX_CONNECTIONS);
    private final ExecutorService threads;
    private final ScheduledExecutorService deadlines;
    private final Map<String, ConsoleSession> byVm = new HashMap<>();
    /** The sessions an instructor holds on a student's VM: the student is shown who. */
    private final Map<ConsoleSession, String> watched = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, Integer> perUser = new HashMap<>();
    /** Connections open now per caller name, sessions and pending requests alike. */
    private final Map<String, Integer> connectionsOf = new HashMap<>();
    /** When each VM's console was last taken over (System.nanoTime). */
    private final Map<String, Long> takenOverAt = new HashMap<>();
    /** Per user, the sessions they may open now without waiting, and when that was counted (a token bucket). */
    private final Map<String, Bucket> opens = new HashMap<>();
    /** How long one more open takes to come back to a user's bucket ({@link #OPEN_EVERY}; tests change it). */
    private volatile Duration openEvery = OPEN_EVERY;

    /** Bucket is one user's opens in hand and when they were last counted. */
    private static final class Bucket {
        double left;
        long at;

        Bucket(double left, long at) {
            this.left = left;
            this.at = at;
        }
    }
    /** Refusals not logged yet, by caller, and when the last bulk line was written. */
    private final Map<String, Integer> unlogged = new HashMap<>();
    /** When each caller's last refusal was logged with its reason. */
    private final Map<String, Long> lastLogged = new HashMap<>();
    private long loggedAt = System.nanoTime();
    private final AtomicInteger open = new AtomicInteger();
    private final Map<String, Counter> requests = new HashMap<>();
    private ServerSocketChannel server;
    /** The lock beside the socket, held while this broker serves it. */
    private LockFile lock;
    private Thread acceptor;
    private volatile boolean running;

    public ConsoleBroker(Path socket, int maxPerUser, Vms vms, Function<String, Optional<Account>> accounts,
                         MeterRegistry registry) {
        this.socket = socket;
        this.maxPerUser = maxPerUser;
        this.vms = vms;
        this.accounts = accounts;
        AtomicInteger n = new AtomicInteger();
        // Three threads per session (the caller's bytes, the guest's bytes, their way to the caller), none kept
        // idle for long.
        this.threads = new java.util.concurrent.ThreadPoolExecutor(0, 3 * MAX_CONNECTIONS, 5, TimeUnit.SECONDS,
                new java.util.concurrent.SynchronousQueue<>(), r -> {
                    Thread t = new Thread(r, "console-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        this.deadlines = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "console-deadlines");
            t.setDaemon(true);
            return t;
        });
        Gauge.builder("ievirsh.console.sessions", open, AtomicInteger::get)
                .description("Console sessions open now").register(registry);
        for (String result : new String[] {"opened", "refused", "failed"}) {
            requests.put(result, Counter.builder("ievirsh.console.requests").tag("result", result)
                    .description("Console requests, by how they ended").register(registry));
        }
    }

    /**
     * Takes the lock beside the socket ({@code <socket>.lock}: another
     * controller that holds it serves the socket, and this one refuses to
     * start), binds the socket (a stale one left by an earlier run is
     * replaced; any other file there is refused) open to every user, and
     * starts accepting.
     */
    public void start() throws IOException {
        Path dir = socket.toAbsolutePath().getParent();
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        }
        // A socket file tells nothing of whether a controller serves it: the lock beside it does. Held for as long
        // as this broker serves; a second controller on this host refuses to take the socket.
        Path lockPath = socket.resolveSibling(socket.getFileName() + ".lock");
        LockFile held = LockFile.open(lockPath);
        if (!held.tryLock()) {
            String holder = held.read().strip().replace('\n', ' ');
            held.close();
            throw new IOException("another controller serves " + socket + " (" + (holder.isEmpty() ? "see " + lockPath
                    : holder) + "); give this one a console.socket of its own, or stop that one");
        }
        held.write("pid " + ProcessHandle.current().pid() + "\n");
        lock = held;
        if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            if (!"s".equals(type(socket))) {
                throw new IOException(socket + " exists and is not a socket; the console needs that path");
            }
            Files.delete(socket);
        }
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            release();
            throw e;
        }
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
        running = true;
        acceptor = new Thread(this::accept, "console-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        LOG.info("console: listening on " + socket);
    }

    private static String type(Path path) throws IOException {
        Object mode = Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        return ((Integer) mode & 0170000) == 0140000 ? "s" : "other";
    }

    private void accept() {
        while (running) {
            SocketChannel client;
            try {
                client = server.accept();
            } catch (IOException e) {
                if (running) {
                    LOG.warning("console: accept failed: " + e.getMessage());
                }
                continue;
            }
            if (!connections.tryAcquire()) {
                requests.get("refused").increment();
                refusedInBulk("(all callers)");
                reply(client, "ERROR the console service is busy (" + MAX_CONNECTIONS + " connections); try again");
                closeQuietly(client);
                continue;
            }
            try {
                threads.execute(() -> {
                    try {
                        serve(client);
                    } finally {
                        closeQuietly(client);
                        connections.release();
                    }
                });
            } catch (RuntimeException e) {
                connections.release();
                closeQuietly(client);
            }
        }
    }

    /** Caller is who connected, as the kernel says. */
    private record Caller(String name, int uid) {
        boolean root() {
            return uid == 0;
        }
    }

    private void serve(SocketChannel client) {
        String peer;
        try {
            peer = client.getOption(ExtendedSocketOptions.SO_PEERCRED).user().getName();
        } catch (IOException | RuntimeException e) {
            failed(client, null, "cannot tell who is connecting: " + e.getMessage());
            return;
        }
        // The bound comes first, on the kernel's word alone: a caller over it costs no lookup and no wait.
        if (!connected(peer)) {
            requests.get("refused").increment();
            refusedInBulk(peer);
            reply(client, "ERROR you have " + (maxPerUser + PENDING_PER_USER) + " connections to the console"
                    + " service open, the most allowed; close one first");
            return;
        }
        try {
            Optional<Account> account = accounts.apply(peer);
            if (account.isEmpty()) {
                refused(client, null, "your account cannot be resolved now; try again later");
                return;
            }
            request(client, new Caller(account.get().name(), account.get().uid()));
        } catch (RuntimeException e) {
            failed(client, null, "cannot tell who is connecting: " + e.getMessage());
        } finally {
            disconnected(peer);
        }
    }

    /** Counts a connection of {@code name}; false (not counted) when they have as many as allowed. */
    private synchronized boolean connected(String name) {
        int now = connectionsOf.getOrDefault(name, 0);
        if (now >= maxPerUser + PENDING_PER_USER) {
            return false;
        }
        connectionsOf.put(name, now + 1);
        return true;
    }

    private synchronized void disconnected(String name) {
        connectionsOf.computeIfPresent(name, (u, n) -> n > 1 ? n - 1 : null);
    }

    /** Counts a refusal not logged on its own; logs what was counted once a LOG_EVERY. */
    private void refusedInBulk(String who) {
        String line = null;
        synchronized (this) {
            unlogged.merge(who, 1, Integer::sum);
            long now = System.nanoTime();
            if (now - loggedAt >= LOG_EVERY.toNanos()) {
                line = "console: refused in the last " + LOG_EVERY.toSeconds() + " s, by caller: "
                        + unlogged;
                unlogged.clear();
                loggedAt = now;
            }
        }
        if (line != null) {
            LOG.warning(line);
        }
    }

    private void request(SocketChannel client, Caller caller) {
        String line = requestLine(client);
        if (line == null) {
            refused(client, caller, "send one line: CONSOLE <vm>, CONSOLE <vm> FORCE, LIST <course> or a snapshot"
                    + " request, within " + REQUEST_WITHIN.toSeconds() + " s");
            return;
        }
        Matcher list = LIST.matcher(line);
        if (list.matches()) {
            list(client, caller, list.group(1));
            return;
        }
        Matcher snapshot = SNAPSHOT.matcher(line);
        if (snapshot.matches()) {
            if (!vms.leading()) {
                refused(client, caller, "this controller is a standby; the leader answers");
                return;
            }
            boolean all = snapshot.group(4) != null;
            answer(client, caller, vms.snapshot(all ? "SNAPSHOTS" : snapshot.group(1), caller.name(), caller.uid(),
                    all ? snapshot.group(4) : snapshot.group(2), all ? null : snapshot.group(3)), line);
            return;
        }
        Matcher m = REQUEST.matcher(line);
        if (!m.matches()) {
            refused(client, caller, "the request must be CONSOLE <vm>, CONSOLE <vm> FORCE, LIST <course>,"
                    + " SNAPSHOT <vm> <label>, SNAPSHOTS <vm>, REVERT <vm> <label> or DELETE-SNAPSHOT <vm> <label>");
            return;
        }
        String user = m.group(1) != null ? m.group(1) : caller.name();
        String vm = m.group(2);
        boolean force = m.group(4) != null;
        if (!vms.leading()) {
            refused(client, caller, "this controller is a standby; the leader serves consoles");
            return;
        }
        Optional<String> course = Optional.empty();
        if (!user.equals(caller.name()) && !caller.root()) {
            // An instructor, asked of NSS now: one removed from the group has lost access already.
            course = vms.teaching(caller.name(), user, vm);
            if (course.isEmpty()) {
                refused(client, caller, "only your own VMs, or a course VM of a student of a course you teach:"
                        + " no such VM of " + user + " for you (CONSOLE " + vm + " opens yours)");
                return;
            }
        }
        Optional<Account> owner = user.equals(caller.name()) ? Optional.of(new Account(caller.name(), caller.uid(), 0,
                "")) : accounts.apply(user);
        Optional<Target> target = owner.flatMap(o -> vms.find(o.name(), o.uid(), vm));
        if (target.isEmpty()) {
            refused(client, caller, "there is no VM " + vm + (caller.root() ? " of " + user : " of yours"));
            return;
        }
        if (!target.get().running()) {
            refused(client, caller, vm + " is not running; a console needs a running VM (ie-virsh start " + vm + ")");
            return;
        }
        session(client, caller, user + "/" + vm, vm, target.get(), force, course);
    }

    /** Answers {@code LIST course}: {@code OK}, a line per VM, a blank line; or {@code ERROR}. */
    private void list(SocketChannel client, Caller caller, String course) {
        if (!vms.leading()) {
            refused(client, caller, "this controller is a standby; the leader answers");
            return;
        }
        answer(client, caller, vms.list(caller.name(), course), "LIST " + course);
    }

    /** Writes {@code listing}: {@code OK}, its lines, a blank line; or {@code ERROR} and its refusal. */
    private void answer(SocketChannel client, Caller caller, Listing listing, String request) {
        if (listing.refusal() != null) {
            refused(client, caller, listing.refusal());
            return;
        }
        StringBuilder answer = new StringBuilder("OK\n");
        listing.lines().stream().limit(LIST_LINES).forEach(l -> answer.append(l.replace('\n', ' ')).append('\n'));
        answer.append('\n');
        try {
            ByteBuffer bytes = ByteBuffer.wrap(answer.toString().getBytes(StandardCharsets.UTF_8));
            while (bytes.hasRemaining()) {
                client.write(bytes);
            }
            client.shutdownOutput();
        } catch (IOException e) {
            return;  // the caller went
        }
        LOG.fine(() -> "console: uid " + caller.uid() + " asked " + request);
    }

    /** The request line, or null when it does not come whole within the deadline. */
    private String requestLine(SocketChannel client) {
        ScheduledFuture<?> deadline = null;
        ByteBuffer buffer = ByteBuffer.allocate(MAX_REQUEST);
        try {
            deadline = deadlines.schedule(() -> closeQuietly(client), REQUEST_WITHIN.toMillis(), TimeUnit.MILLISECONDS);
            while (buffer.hasRemaining()) {
                // One byte at a time: nothing after the newline may be taken from the console's input.
                ByteBuffer one = ByteBuffer.allocate(1);
                if (client.read(one) < 0) {
                    return null;
                }
                byte b = one.get(0);
                if (b == '\n') {
                    String text = new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
                    return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
                }
                buffer.put(b);
            }
            return null;
        } catch (IOException e) {
            return null;
        } finally {
            if (deadline != null) {
                deadline.cancel(false);
            }
        }
    }

    private void session(SocketChannel client, Caller caller, String key, String vm, Target target, boolean force,
                         Optional<String> course) {
        ConsoleSession previous;
        String refusal = null;
        synchronized (this) {
            previous = byVm.get(key);
            int mine = perUser.getOrDefault(caller.name(), 0) - (previous != null && previous.owner.equals(caller.name())
                    ? 1 : 0);
            Long lastTakeover = takenOverAt.get(key);
            if (previous != null && !force) {
                refusal = "the console of " + vm + " is already open; ie-virsh console " + vm + " --force takes it over";
            } else if (mine >= maxPerUser) {
                refusal = "you have " + mine + " console sessions open, the most allowed (console.maxSessionsPerUser);"
                        + " close one first";
            } else if (previous != null && lastTakeover != null
                    && System.nanoTime() - lastTakeover < TAKEOVER_EVERY.toNanos()) {
                refusal = "the console of " + vm + " was taken over less than " + TAKEOVER_EVERY.toSeconds()
                        + " s ago; try again in a moment";
            } else if (!mayOpen(caller.name())) {
                refusal = "you opened " + maxPerUser + " consoles within seconds; one more a second at most: try again"
                        + " in a moment";
            } else if (previous != null) {
                takenOverAt.put(key, System.nanoTime());
            }
        }
        if (refusal != null) {
            refused(client, caller, refusal);
            return;
        }
        if (previous != null) {
            // Outside the lock: it closes a stream, which may take its time. The caller is told who took it over,
            // and cut off in any case soon after.
            previous.takenOver(caller.name() + " (uid " + caller.uid() + ")");
            deadlines.schedule(previous::end, 2, TimeUnit.SECONDS);
        }
        ConsoleStream stream;
        try {
            stream = vms.open(target.blade(), target.uuid(), force);
        } catch (HypervisorException e) {
            if (e.kind() == HypervisorException.Kind.IN_USE) {
                refused(client, caller, "the console of " + vm + " is already open; ie-virsh console " + vm
                        + " --force takes it over");
            } else if (e.isConnectionLost()) {
                failed(client, caller, "the blade " + target.blade() + " of " + vm + " cannot be reached now");
            } else {
                failed(client, caller, "cannot open the console of " + vm + ": " + e.getMessage());
            }
            return;
        }
        ConsoleSession session = new ConsoleSession(key, caller.name(), client, stream, this::ended);
        ConsoleSession other;
        synchronized (this) {
            other = byVm.put(key, session);
            perUser.merge(caller.name(), 1, Integer::sum);
        }
        if (other != null && other != previous) {
            other.end();  // a session that opened meanwhile: this one, forced, took over
        }
        open.incrementAndGet();
        requests.get("opened").increment();
        if (course.isPresent()) {
            String student = key.substring(0, key.indexOf('/'));
            String who = "instructor " + caller.name() + " (uid " + caller.uid() + ")";
            LOG.info("console: " + who + " opened the console of " + key + " (uid " + accounts.apply(student)
                    .map(a -> String.valueOf(a.uid())).orElse("?") + "), course " + course.get());
            watched.put(session, who);
            vms.watching(student, vm, who, true);
        } else {
            LOG.info("console: uid " + caller.uid() + " opened the console of " + key);
        }
        session.run(threads);
    }

    /**
     * Takes one open from {@code user}'s bucket (called under the lock):
     * {@code maxSessionsPerUser} at once, then one a second; false when empty.
     */
    private boolean mayOpen(String user) {
        long now = System.nanoTime();
        Bucket bucket = opens.computeIfAbsent(user, u -> new Bucket(maxPerUser, now));
        bucket.left = openEvery.isZero() ? maxPerUser
                : Math.min(maxPerUser, bucket.left + (double) (now - bucket.at) / openEvery.toNanos());
        bucket.at = now;
        if (bucket.left < 1) {
            return false;
        }
        bucket.left -= 1;
        if (opens.size() > 10_000) {
            opens.values().removeIf(b -> now - b.at > 60_000_000_000L);  // full again by now: forgotten
        }
        return true;
    }

    /** A session ended: it no longer counts. */
    private void ended(ConsoleSession session) {
        synchronized (this) {
            byVm.remove(session.key, session);
            perUser.computeIfPresent(session.owner, (u, n) -> n > 1 ? n - 1 : null);
        }
        open.decrementAndGet();
        String who = watched.remove(session);
        if (who != null) {
            int slash = session.key.indexOf('/');
            vms.watching(session.key.substring(0, slash), session.key.substring(slash + 1), who, false);
            LOG.info("console: " + who + " closed the console of " + session.key);
        }
        long dropped = session.dropped();
        LOG.fine(() -> "console: " + session.key + " closed" + (dropped > 0 ? " (" + dropped
                + " bytes of output dropped: the caller did not read them)" : ""));
    }

    /**
     * Refuses a request: counted always; logged with its reason the first
     * time in a {@link #LOG_EVERY} for that caller, then in the bulk line (a
     * caller in a loop would otherwise write the log full).
     */
    private void refused(SocketChannel client, Caller caller, String message) {
        requests.get("refused").increment();
        String who = caller == null ? "(unresolved)" : caller.name();
        if (firstInWindow(who)) {
            LOG.info("console: refused" + (caller == null ? "" : " uid " + caller.uid()) + ": " + message);
        } else {
            refusedInBulk(who);
        }
        reply(client, "ERROR " + message);
    }

    private synchronized boolean firstInWindow(String who) {
        long now = System.nanoTime();
        Long last = lastLogged.get(who);
        if (last != null && now - last < LOG_EVERY.toNanos()) {
            return false;
        }
        if (lastLogged.size() > 10_000) {
            lastLogged.clear();
        }
        lastLogged.put(who, now);
        return true;
    }

    private void failed(SocketChannel client, Caller caller, String message) {
        requests.get("failed").increment();
        LOG.warning("console: failed" + (caller == null ? "" : " for uid " + caller.uid()) + ": " + message);
        reply(client, "ERROR " + message);
    }

    /**
     * Writes the answer line; what the caller sent beyond its request is read
     * and dropped, so that closing does not reset the connection before the
     * caller has read the answer.
     */
    private static void reply(SocketChannel client, String line) {
        try {
            client.write(ByteBuffer.wrap((line.replace('\n', ' ') + "\n").getBytes(StandardCharsets.UTF_8)));
            client.shutdownOutput();
            client.configureBlocking(false);
            ByteBuffer sink = ByteBuffer.allocate(4096);
            for (int i = 0; i < 16 && client.read(sink.clear()) > 0; i++) {
                // dropped
            }
        } catch (IOException ignored) {
            // The caller went; nothing to tell.
        }
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Closing only releases it.
        }
    }

    /** Sets how long one more open takes to come back (tests that open many sessions one after the other). */
    void openEvery(Duration every) {
        openEvery = every;
    }

    /** Sessions open now. */
    public int sessions() {
        return open.get();
    }

    /** Ends every session and stops listening; the socket file goes. */
    @Override
    public void close() {
        running = false;
        try {
            if (server != null) {
                server.close();
            }
        } catch (IOException ignored) {
            // Closing only releases it.
        }
        Map<String, ConsoleSession> all;
        synchronized (this) {
            all = new HashMap<>(byVm);
        }
        all.values().forEach(ConsoleSession::end);
        threads.shutdownNow();
        deadlines.shutdownNow();
        try {
            if (lock != null) {
                Files.deleteIfExists(socket);  // ours: another controller's is never removed
            }
        } catch (IOException ignored) {
            // A stale socket is replaced at the next start.
        }
        release();
    }

    private synchronized void release() {
        if (lock != null) {
            lock.close();
            lock = null;
        }
    }
}
