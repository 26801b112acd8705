package org.ievirsh.console;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.logging.Logger;
import jdk.net.ExtendedSocketOptions;
import org.ievirsh.libvirt.ConsoleStream;
import org.ievirsh.libvirt.HypervisorException;
import org.ievirsh.posix.Account;

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
    /** LIST_LINES bounds the lines of one LIST answer (a course of that many VMs is answered whole). */
    static final int LIST_LINES = 100_000;

    private final Path path;
    private final int maxPerUser;
    private final ConsoleVms vms;
    private final Function<String, Optional<Account>> accounts;
    private final Semaphore connections = new Semaphore(MAX_CONNECTIONS);
    private final ExecutorService threads;
    private final ScheduledExecutorService deadlines;
    private final OpenSessions sessions;
    /** The sessions an instructor holds on a student's VM: the student is shown who. */
    private final Map<ConsoleSession, String> watched = new java.util.concurrent.ConcurrentHashMap<>();
    private final CallerBounds bounds;
    private final RefusalLog refusals = new RefusalLog(LOG_EVERY);
    private final AtomicInteger open = new AtomicInteger();
    private final Map<String, Counter> requests = new HashMap<>();
    private ConsoleSocket socket;
    private ServerSocketChannel server;
    private Thread acceptor;
    private volatile boolean running;

    public ConsoleBroker(Path socket, int maxPerUser, ConsoleVms vms, Function<String, Optional<Account>> accounts,
                         MeterRegistry registry) {
        this.path = socket;
        this.maxPerUser = maxPerUser;
        this.vms = vms;
        this.accounts = accounts;
        this.sessions = new OpenSessions(maxPerUser, TAKEOVER_EVERY);
        this.bounds = new CallerBounds(maxPerUser + PENDING_PER_USER, maxPerUser, OPEN_EVERY);
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
        ConsoleSocket bound = ConsoleSocket.bind(path);
        synchronized (this) {
            socket = bound;
        }
        server = bound.server();
        running = true;
        acceptor = new Thread(this::accept, "console-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        LOG.info("console: listening on " + path);
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
                refusals.inBulk("(all callers)");
                ConsoleWire.reply(client, "ERROR the console service is busy (" + MAX_CONNECTIONS + " connections); try again");
                ConsoleWire.closeQuietly(client);
                continue;
            }
            try {
                threads.execute(() -> {
                    try {
                        serve(client);
                    } finally {
                        ConsoleWire.closeQuietly(client);
                        connections.release();
                    }
                });
            } catch (RuntimeException e) {
                connections.release();
                ConsoleWire.closeQuietly(client);
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
        if (!bounds.connected(peer)) {
            requests.get("refused").increment();
            refusals.inBulk(peer);
            ConsoleWire.reply(client, "ERROR you have " + (maxPerUser + PENDING_PER_USER) + " connections to the console"
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
            bounds.disconnected(peer);
        }
    }

    private void request(SocketChannel client, Caller caller) {
        String line = ConsoleWire.requestLine(client, deadlines, REQUEST_WITHIN);
        if (line == null) {
            refused(client, caller, "send one line: CONSOLE <vm>, CONSOLE <vm> FORCE, LIST <course> or a snapshot"
                    + " request, within " + REQUEST_WITHIN.toSeconds() + " s");
            return;
        }
        ConsoleRequest asked = ConsoleRequest.parse(line);
        if (asked instanceof ConsoleRequest.Bad) {
            refused(client, caller, "the request must be CONSOLE <vm>, CONSOLE <vm> FORCE, LIST <course>,"
                    + " SNAPSHOT <vm> <label>, SNAPSHOTS <vm>, REVERT <vm> <label> or DELETE-SNAPSHOT <vm> <label>");
            return;
        }
        if (!vms.leading()) {
            refused(client, caller, "this controller is a standby; the leader "
                    + (asked instanceof ConsoleRequest.Console ? "serves consoles" : "answers"));
            return;
        }
        if (asked instanceof ConsoleRequest.ListCourse list) {
            answer(client, caller, vms.list(caller.name(), list.course()), line);
        } else if (asked instanceof ConsoleRequest.Snapshot snapshot) {
            answer(client, caller, vms.snapshot(snapshot.op(), caller.name(), caller.uid(), snapshot.vm(),
                    snapshot.label()), line);
        } else if (asked instanceof ConsoleRequest.Console console) {
            console(client, caller, console);
        }
    }

    private void console(SocketChannel client, Caller caller, ConsoleRequest.Console asked) {
        String user = asked.user() != null ? asked.user() : caller.name();
        String vm = asked.vm();
        boolean force = asked.force();
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
        Optional<ConsoleVms.Target> target = owner.flatMap(o -> vms.find(o.name(), o.uid(), vm));
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

    /** Writes {@code listing}: {@code OK}, its lines, a blank line; or {@code ERROR} and its refusal. */
    private void answer(SocketChannel client, Caller caller, ConsoleVms.Listing listing, String request) {
        if (listing.refusal() != null) {
            refused(client, caller, listing.refusal());
        } else if (ConsoleWire.lines(client, listing.lines(), LIST_LINES)) {
            LOG.fine(() -> "console: uid " + caller.uid() + " asked " + request);
        }
    }

    private void session(SocketChannel client, Caller caller, String key, String vm, ConsoleVms.Target target, boolean force,
                         Optional<String> course) {
        OpenSessions.Opening opening = sessions.open(key, vm, caller.name(), force, bounds);
        ConsoleSession previous = opening.previous();
        String refusal = opening.refusal();
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
        ConsoleSession other = sessions.add(session);
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

    /** A session ended: it no longer counts. */
    private void ended(ConsoleSession session) {
        sessions.remove(session);
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
        refusals.refused(caller == null ? "(unresolved)" : caller.name(),
                "console: refused" + (caller == null ? "" : " uid " + caller.uid()) + ": " + message);
        ConsoleWire.reply(client, "ERROR " + message);
    }

    private void failed(SocketChannel client, Caller caller, String message) {
        requests.get("failed").increment();
        LOG.warning("console: failed" + (caller == null ? "" : " for uid " + caller.uid()) + ": " + message);
        ConsoleWire.reply(client, "ERROR " + message);
    }

    /** Sets how long one more open takes to come back (tests that open many sessions one after the other). */
    void openEvery(Duration every) {
        bounds.openEvery(every);
    }

    /** Sessions open now. */
    public int sessions() {
        return open.get();
    }

    /** Ends every session and stops listening; the socket file goes. */
    @Override
    public void close() {
        running = false;
        ConsoleSocket bound;
        synchronized (this) {
            bound = socket;
            socket = null;
        }
        if (bound != null) {
            bound.close();  // stops listening first: no session begins while the others end
        }
        sessions.all().forEach(ConsoleSession::end);
        threads.shutdownNow();
        deadlines.shutdownNow();
    }
}
