package org.ievirsh.console;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.ievirsh.libvirt.FakeConsole;
import org.ievirsh.libvirt.FakeHypervisor;
import org.ievirsh.libvirt.ConsoleStream;
import org.ievirsh.libvirt.HypervisorException;
import org.ievirsh.posix.Account;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ConsoleBrokerTest talks to the broker over its real UNIX socket, as the
 * CLI does; the consoles are the fake blade's. The test runs as one account,
 * so the broker's account lookup decides who that account "is".
 */
class ConsoleBrokerTest {
    @TempDir
    Path tmp;
    Path socket;
    FakeHypervisor blade;
    final Map<String, String> running = new ConcurrentHashMap<>();
    /** Who the connecting account is, for the broker. */
    volatile Account caller = new Account("alice", 1001, 1001, "/home/alice");
    volatile boolean leading = true;
    final List<String> watched = new java.util.concurrent.CopyOnWriteArrayList<>();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    ConsoleBroker broker;

    @BeforeEach
    void setUp() throws Exception {
        socket = tmp.resolve("run/console.sock");
        blade = new FakeHypervisor("b1");
        for (String name : List.of("alice-web", "alice-db", "alice-a", "alice-b", "alice-c", "bob-web")) {
            blade.define("<domain><name>" + name + "</name></domain>");
            blade.start(blade.uuidOf(name));
            running.put(name, blade.uuidOf(name));
        }
        ConsoleVms vms = new ConsoleVms() {
            @Override
            public Optional<ConsoleVms.Target> find(String user, int uid, String vm) {
                String uuid = running.get(user + "-" + vm);
                if (uuid == null || uid != (user.equals("alice") ? 1001 : 1002)) {
                    return Optional.empty();
                }
                return Optional.of(new ConsoleVms.Target("b1", uuid,
                        blade.state(user + "-" + vm).isActive()));
            }

            @Override
            public ConsoleStream open(String name, String uuid, boolean force) throws HypervisorException {
                return blade.openConsole(uuid, force);
            }

            @Override
            public boolean leading() {
                return leading;
            }

            @Override
            public Optional<String> teaching(String who, String student, String vm) {
                // carol teaches os2026, whose VM bob/web is; nothing else.
                return who.equals("carol") && student.equals("bob") && vm.equals("web") ? Optional.of("os2026")
                        : Optional.empty();
            }

            @Override
            public ConsoleVms.Listing list(String who, String course) {
                return who.equals("carol") && course.equals("os2026")
                        ? ConsoleVms.Listing.of(List.of("bob\tweb\tRunning\tb1\t\t", "a\nb"))
                        : ConsoleVms.Listing.refused("you are no instructor of a course " + course);
            }

            @Override
            public void watching(String student, String vm, String who, boolean open) {
                watched.add((open ? "opened " : "closed ") + student + "/" + vm + " by " + who);
            }
        };
        // The kernel names the account running the test; the broker is told it is the "caller" of the moment.
        String self = System.getProperty("user.name");
        broker = new ConsoleBroker(socket, 3, vms, name -> name.equals(self) ? Optional.of(caller)
                : name.equals("bob") ? Optional.of(new Account("bob", 1002, 1002, "/home/bob"))
                : name.equals("alice") ? Optional.of(new Account("alice", 1001, 1001, "/home/alice"))
                : Optional.empty(), registry);
        broker.start();
    }

    @AfterEach
    void tearDown() {
        broker.close();
    }

    /** One client of the socket. */
    private final class Client implements AutoCloseable {
        final SocketChannel channel;
        final StringBuilder received = new StringBuilder();

        Client(String request) throws IOException {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(UnixDomainSocketAddress.of(socket));
            if (request != null) {
                send(request);
            }
        }

        void send(String text) throws IOException {
            channel.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
        }

        /** Reads until {@code expected} arrived (or the end); returns all received so far. */
        String until(String expected) throws IOException {
            ByteBuffer buffer = ByteBuffer.allocate(4096);
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!received.toString().contains(expected) && System.nanoTime() < deadline) {
                buffer.clear();
                int n = channel.read(buffer);
                if (n < 0) {
                    break;
                }
                received.append(new String(buffer.array(), 0, n, StandardCharsets.UTF_8));
            }
            return received.toString();
        }

        /** True once the broker closed the connection. */
        boolean closedByBroker() throws IOException {
            ByteBuffer buffer = ByteBuffer.allocate(4096);
            int n;
            while ((n = channel.read(buffer.clear())) > 0) {
                received.append(new String(buffer.array(), 0, n, StandardCharsets.UTF_8));
            }
            return n < 0;
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    private double count(String result) {
        return registry.get("ievirsh.console.requests").tag("result", result).counter().count();
    }

    @Test
    void theSocketIsOpenToEveryUserAndABytesGoBothWays() throws Exception {
        assertEquals("rw-rw-rw-", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(socket)));
        try (Client c = new Client("CONSOLE web\n")) {
            assertTrue(c.until("OK\n").startsWith("OK\n"), c.received.toString());
            c.send("uname -a\n");
            assertTrue(c.until("echo: uname -a\n").endsWith("echo: uname -a\n"), c.received.toString());
            blade.consoles.get("alice-web").fromGuest.add("login: ".getBytes());
            assertTrue(c.until("login: ").endsWith("login: "));
            assertEquals(1, broker.sessions());
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> broker.sessions() == 0);
        assertTrue(blade.consoles.get("alice-web").closed(), "the student left: the stream is closed");
        assertEquals(1.0, count("opened"));
        assertEquals(0.0, registry.get("ievirsh.console.sessions").gauge().value());
    }

    @Test
    void aSecondControllerOnTheHostDoesNotTakeTheSocket() throws Exception {
        // It took it silently: the first one's students then asked the wrong controller for their VMs.
        ConsoleBroker second = new ConsoleBroker(socket, 3, new ConsoleVms() {
            public Optional<ConsoleVms.Target> find(String user, int uid, String vm) {
                return Optional.empty();
            }

            public ConsoleStream open(String blade, String uuid, boolean force) throws HypervisorException {
                throw new HypervisorException(HypervisorException.Kind.OTHER, "not this one");
            }

            public boolean leading() {
                return true;
            }
        }, name -> Optional.of(caller), new SimpleMeterRegistry());
        IOException refused = org.junit.jupiter.api.Assertions.assertThrows(IOException.class, second::start);
        assertTrue(refused.getMessage().startsWith("another controller serves " + socket + " (pid "
                + ProcessHandle.current().pid() + ")"), refused.getMessage());
        second.close();
        try (Client c = new Client("CONSOLE web\n")) {
            assertTrue(c.until("OK\n").startsWith("OK"), "the first one still serves: " + c.received);
        }
    }

    @Test
    void aSecondSessionIsRefusedAndForceTakesOver() throws Exception {
        try (Client first = new Client("CONSOLE web\n")) {
            first.until("OK\n");
            Client second = new Client("CONSOLE web\n");
            assertTrue(second.until("\n").startsWith("ERROR the console of web is already open; ie-virsh console web"
                    + " --force takes it over"), second.received.toString());
            assertTrue(second.closedByBroker());
            second.close();
            try (Client third = new Client("CONSOLE web FORCE\n")) {
                assertTrue(third.until("OK\n").startsWith("OK\n"), third.received.toString());
                assertTrue(first.closedByBroker(), "the first session ended");
                assertTrue(first.received.toString().contains("[ie-virsh: the console was taken over by alice (uid"
                        + " 1001)]"), "and was told who took it: " + first.received);
                third.send("still here\n");
                assertTrue(third.until("echo: still here").contains("echo: still here"));
            }
        }
        assertEquals(1.0, count("refused"));
    }

    @Test
    void onlyTheCallersOwnRunningVmsAndEveryRefusalSaysWhy() throws Exception {
        Map<String, String> refusals = new java.util.LinkedHashMap<>();
        refusals.put("CONSOLE nosuch\n", "ERROR there is no VM nosuch of yours");
        refusals.put("CONSOLE bob/web\n", "ERROR only your own VMs, or a course VM of a student of a course you"
                + " teach: no such VM of bob for you (CONSOLE web opens yours)");
        refusals.put("CONSOLE ../../etc/passwd\n", "ERROR the request must be CONSOLE <vm>, CONSOLE <vm> FORCE, LIST <course>");
        refusals.put("CONSOLE web EXTRA\n", "ERROR the request must be CONSOLE <vm>, CONSOLE <vm> FORCE, LIST <course>");
        refusals.put("console web\n", "ERROR the request must be CONSOLE <vm>, CONSOLE <vm> FORCE, LIST <course>");
        refusals.put("CONSOLE " + "x".repeat(300) + "\n", "ERROR send one line: CONSOLE <vm>");
        refusals.put("\u0000\u0001\u00ff\n", "ERROR the request must be CONSOLE <vm>, CONSOLE <vm> FORCE, LIST <course>");
        // Snapshot requests take two names as VM names are: no path, no option, nothing more.
        for (String bad : List.of("SNAPSHOT web ../x", "SNAPSHOT web", "REVERT web a b", "DELETE-SNAPSHOT web -x",
                "SNAPSHOTS ../web", "SNAPSHOT other/web a")) {
            refusals.put(bad + "\n", "ERROR the request must be CONSOLE <vm>, CONSOLE <vm> FORCE, LIST <course>,"
                    + " SNAPSHOT <vm> <label>");
        }
        refusals.put("SNAPSHOT web before-lab3\n", "ERROR snapshots are not served here");  // parsed, and handed on
        for (Map.Entry<String, String> e : refusals.entrySet()) {
            try (Client c = new Client(e.getKey())) {
                assertTrue(c.until("\n").startsWith(e.getValue()), e.getKey() + " -> " + c.received);
                assertTrue(c.closedByBroker());
            }
        }
        blade.stop(running.get("alice-db"), org.ievirsh.libvirt.StopReason.SHUTDOWN);
        try (Client c = new Client("CONSOLE db\n")) {
            assertTrue(c.until("\n").startsWith("ERROR db is not running"), c.received.toString());
        }
        // Bob's own VM is his; root may name anyone's.
        caller = new Account("bob", 1002, 1002, "/home/bob");
        try (Client c = new Client("CONSOLE web\n")) {
            assertTrue(c.until("OK\n").startsWith("OK"), c.received.toString());
        }
        caller = new Account("root", 0, 0, "/root");
        try (Client c = new Client("CONSOLE alice/web\n")) {
            assertTrue(c.until("OK\n").startsWith("OK"), c.received.toString());
        }
        leading = false;
        try (Client c = new Client("CONSOLE alice/web\n")) {
            assertTrue(c.until("\n").startsWith("ERROR this controller is a standby"), c.received.toString());
        }
    }

    @Test
    void anInstructorListsTheirCourseAndOpensItsVmsAndTheStudentIsTold() throws Exception {
        caller = new Account("carol", 1003, 1003, "/home/carol");
        try (Client c = new Client("LIST os2026\n")) {
            assertEquals("OK\nbob\tweb\tRunning\tb1\t\t\na b\n\n", c.until("\n\n"), "one line each, a blank line");
            assertTrue(c.closedByBroker());
        }
        try (Client c = new Client("LIST other\n")) {
            assertTrue(c.until("\n").startsWith("ERROR you are no instructor of a course other"), c.received.toString());
        }
        try (Client c = new Client("CONSOLE alice/web\n")) {
            assertTrue(c.until("\n").startsWith("ERROR only your own VMs, or a course VM"), "not a VM of her course: "
                    + c.received);
        }
        try (Client c = new Client("CONSOLE bob/web\n")) {
            assertTrue(c.until("OK\n").startsWith("OK"), c.received.toString());
            await().atMost(Duration.ofSeconds(5)).until(() -> watched.contains(
                    "opened bob/web by instructor carol (uid 1003)"));
            c.send("hello\n");
            assertTrue(c.until("echo: hello").contains("echo: hello"));
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> watched.contains(
                "closed bob/web by instructor carol (uid 1003)"));
        // The student's own session is no instructor's: nothing to tell.
        caller = new Account("bob", 1002, 1002, "/home/bob");
        watched.clear();
        try (Client c = new Client("CONSOLE web\n")) {
            assertTrue(c.until("OK\n").startsWith("OK"), c.received.toString());
        }
        assertEquals(List.of(), watched);
    }

    @Test
    void aSilentClientIsDroppedAfterTheRequestDeadline() throws Exception {
        try (Client c = new Client(null)) {
            c.send("CONSOLE we");
            long t0 = System.nanoTime();
            assertTrue(c.closedByBroker());
            assertTrue(Duration.ofNanos(System.nanoTime() - t0).toMillis() < 9000);
        }
    }

    @Test
    void atMostTheUsersLimitOfSessions() throws Exception {
        List<Client> open = new ArrayList<>();
        try {
            for (String vm : List.of("a", "b", "c")) {
                Client c = new Client("CONSOLE " + vm + "\n");
                open.add(c);
                assertTrue(c.until("OK\n").startsWith("OK"), c.received.toString());
            }
            try (Client fourth = new Client("CONSOLE web\n")) {
                assertTrue(fourth.until("\n").startsWith("ERROR you have 3 console sessions open, the most allowed"),
                        fourth.received.toString());
            }
        } finally {
            for (Client c : open) {
                c.close();
            }
        }
    }

    @Test
    void theSessionEndsWhenTheVmStops() throws Exception {
        try (Client c = new Client("CONSOLE web\n")) {
            c.until("OK\n");
            blade.stop(running.get("alice-web"), org.ievirsh.libvirt.StopReason.SHUTDOWN);
            assertTrue(c.closedByBroker());
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> broker.sessions() == 0);
    }

    @Test
    void aUserOpensAsManyConsolesAsTheyMayHoldAtOnceThenOneASecond() throws Exception {
        // Each open makes a connection to a blade: a loop of opens and closes (16 threads of FORCE) made ninety a
        // second, and its CPU slowed everyone's VMs.
        for (int i = 0; i < 3; i++) {
            try (Client c = new Client("CONSOLE web" + (i == 0 ? "" : " FORCE") + "\n")) {
                assertTrue(c.until("\n").startsWith("OK"), c.received.toString());
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> broker.sessions() == 0);
        }
        try (Client c = new Client("CONSOLE web\n")) {
            assertTrue(c.until("\n").startsWith("ERROR you opened 3 consoles within seconds"), c.received.toString());
        }
        Thread.sleep(ConsoleBroker.OPEN_EVERY.toMillis() + 100);
        try (Client c = new Client("CONSOLE web\n")) {
            assertTrue(c.until("\n").startsWith("OK"), "one more a second: " + c.received);
        }
    }

    @Test
    void aHundredSessionsLeaveNoThreadStreamOrDescriptorBehind() throws Exception {
        broker.openEvery(Duration.ZERO);
        try (Client warm = new Client("CONSOLE web\n")) {
            warm.until("OK\n");
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> broker.sessions() == 0);
        Thread.sleep(200);
        int threads = Thread.activeCount();
        long fds = openFiles();
        for (int i = 0; i < 100; i++) {
            try (Client c = new Client("CONSOLE web" + (i % 2 == 0 ? "" : " FORCE") + "\n")) {
                c.until("OK\n");
                c.send("line " + i + "\n");
                c.until("echo: line " + i);
            }
            // The student left: once the broker saw it, the VM's console is free for the next one.
            await().atMost(Duration.ofSeconds(5)).until(() -> broker.sessions() == 0);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> broker.sessions() == 0);
        assertTrue(blade.consoles.values().stream().allMatch(FakeConsole::closed), "every stream closed");
        await().atMost(Duration.ofSeconds(20)).until(() -> openFiles() <= fds && Thread.activeCount() <= threads);
        assertEquals(101.0, count("opened"));
    }

    private static long openFiles() throws IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    @Test
    void aCallerOverTheirConnectionBoundIsRefusedAtOnceAndCounted() throws Exception {
        // A slowloris: idle connections that never send a request. Beyond the caller's bound (3 sessions and 4
        // pending here) a connection is refused at once, not after the request deadline, and counted.
        List<Client> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 3 + ConsoleBroker.PENDING_PER_USER; i++) {
                idle.add(new Client(null));
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> {
                try (Client probe = new Client(null)) {
                    long t0 = System.nanoTime();
                    String answer = probe.until("\n");
                    return answer.startsWith("ERROR you have 7 connections to the console service open")
                            && Duration.ofNanos(System.nanoTime() - t0).toMillis() < 2000;
                }
            });
            assertTrue(count("refused") >= 1.0);
        } finally {
            for (Client c : idle) {
                c.close();
            }
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            try (Client c = new Client("CONSOLE web\n")) {
                assertTrue(c.until("OK\n").startsWith("OK\n"), c.received.toString());
            }
        });
    }

    @Test
    void aFloodNobodyReadsIsReadFromTheGuestAndDroppedNotHeld() throws Exception {
        try (Client c = new Client("CONSOLE web\n")) {
            c.until("OK\n");
            FakeConsole guest = blade.consoles.get("alice-web");
            byte[] chunk = "x".repeat(4095).concat("\n").getBytes(StandardCharsets.US_ASCII);
            int chunks = 2048;  // 8 MiB: far more than the buffer and the socket's own
            for (int i = 0; i < chunks; i++) {
                guest.fromGuest.add(chunk);
            }
            // The caller reads nothing, yet the guest's bytes are taken: nothing piles up behind the stream.
            await().atMost(Duration.ofSeconds(20)).until(guest.fromGuest::isEmpty);
            long read = 0;
            ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
            StringBuilder notice = new StringBuilder();
            c.channel.configureBlocking(false);
            long quietSince = System.nanoTime();
            while (System.nanoTime() - quietSince < Duration.ofMillis(500).toNanos()) {
                int n = c.channel.read(buffer.clear());
                if (n > 0) {
                    read += n;
                    quietSince = System.nanoTime();
                    String text = new String(buffer.array(), 0, n, StandardCharsets.US_ASCII);
                    int at = text.indexOf("[ie-virsh: ");
                    if (at >= 0) {
                        notice.append(text, at, Math.min(text.length(), at + 120));
                    }
                }
            }
            assertTrue(read < (long) chunks * chunk.length / 2, "most of it was dropped, read " + read);
            assertTrue(notice.toString().matches("(?s)\\[ie-virsh: \\d+ bytes of console output were dropped.*"),
                    notice.toString());
            c.channel.configureBlocking(true);
            c.received.setLength(0);
            c.send("still here\n");
            assertTrue(c.until("echo: still here").contains("echo: still here"), "the session goes on");
        }
    }

    @Test
    void oneVmsConsoleIsTakenOverAtMostOnceASecond() throws Exception {
        try (Client first = new Client("CONSOLE web\n")) {
            first.until("OK\n");
            try (Client second = new Client("CONSOLE web FORCE\n")) {
                assertTrue(second.until("\n").startsWith("OK"), second.received.toString());
                try (Client third = new Client("CONSOLE web FORCE\n")) {
                    assertTrue(third.until("\n").startsWith("ERROR the console of web was taken over less than 1 s"
                            + " ago"), third.received.toString());
                }
                // The refused third leaves the second alone; the first, taken over, ends within its 2 s of grace.
                second.send("still here\n");
                assertTrue(second.until("echo: still here").contains("echo: still here"), "the second one is open");
                await().atMost(Duration.ofSeconds(5)).until(() -> broker.sessions() == 1);
            }
        }
    }
}
