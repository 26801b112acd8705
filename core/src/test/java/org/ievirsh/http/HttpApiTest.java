package org.ievirsh.http;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.ievirsh.metrics.Exposition;
import org.ievirsh.status.StatusBook;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** HttpApiTest serves the endpoints on a free port and treats them as a student with a socket would. */
class HttpApiTest {
    private final HttpClient client = HttpClient.newHttpClient();
    private final AtomicInteger scrapes = new AtomicInteger();
    private final AtomicBoolean healthy = new AtomicBoolean(true);
    private final List<Socket> sockets = new ArrayList<>();
    private HttpApi api;

    private HttpApi.Health health;
    private PrometheusMeterRegistry registry;

    @BeforeEach
    void start() {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        // A gauge read once per scrape: it counts how often /metrics is built.
        Gauge.builder("ievirsh_test_scrapes", scrapes, AtomicInteger::incrementAndGet).register(registry);
        health = new HttpApi.Health() {
            public boolean healthy() {
                return healthy.get();
            }

            public boolean ready() {
                return true;
            }

            public String readiness() {
                return "ready";
            }
        };
        api = HttpApi.start("127.0.0.1", 0, Optional.of("s3cret"), new Exposition(registry), new StatusBook(), health, 1);
    }

    @AfterEach
    void stop() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
        api.close();
    }

    private HttpResponse<String> get(String path, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.port() + path))
                .timeout(Duration.ofSeconds(10));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void withATokenOnlyTheHealthChecksAnswerWithoutIt() throws Exception {
        assertEquals(401, get("/metrics", null).statusCode());
        assertEquals(401, get("/metrics", "wrong").statusCode());
        assertEquals(401, get("/api/v1/vms", "s3cre").statusCode());
        assertEquals(200, get("/metrics", "s3cret").statusCode());
        assertEquals("[]", get("/api/v1/vms", "s3cret").body(), "compact JSON");
        assertEquals(200, get("/healthz", null).statusCode());
        assertEquals(200, get("/readyz", null).statusCode());
    }

    @Test
    void healthzFailsWhenAWorkerIsGone() throws Exception {
        healthy.set(false);
        assertEquals(503, get("/healthz", null).statusCode());
    }

    @Test
    void manyScrapesAtOnceBuildTheMetricsOnce() throws Exception {
        get("/metrics", "s3cret");
        int before = scrapes.get();
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            all.add(client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.port() + "/metrics"))
                    .header("Authorization", "Bearer s3cret").build(), HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> f : all) {
            assertEquals(200, f.get().statusCode());
        }
        // Fifty scrapes over well under a few seconds: built once per second at most.
        assertTrue(scrapes.get() - before <= 3, (scrapes.get() - before) + " builds for 50 scrapes");
    }

    /** A client that opens a connection and sends half a request, then nothing. */
    private Socket slowClient() throws IOException {
        Socket socket = new Socket("127.0.0.1", api.port());
        sockets.add(socket);
        OutputStream out = socket.getOutputStream();
        out.write("GET /metrics HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return socket;
    }

    @Test
    void slowClientsAreClosedAndDoNotKeepMetricsFromBeingServed() throws Exception {
        List<Socket> slow = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            slow.add(slowClient());
        }
        assertEquals(200, get("/metrics", "s3cret").statusCode(), "served beside 100 slow clients");
        Socket one = slow.get(0);
        one.setSoTimeout(30_000);
        InputStream in = one.getInputStream();
        assertEquals(-1, in.read(), "a connection that never sends a whole request is closed");
    }

    @Test
    void connectionsOverTheLimitAreRefused() throws Exception {
        for (int i = 0; i < HttpApi.MAX_CONNECTIONS; i++) {
            slowClient();
        }
        Socket over = new Socket("127.0.0.1", api.port());
        sockets.add(over);
        over.setSoTimeout(30_000);
        await().atMost(Duration.ofSeconds(30)).until(() -> over.getInputStream().read() == -1);
    }

    @Test
    void refusedConnectionsAreForgottenWhateverTheySent() throws Exception {
        api.close();  // this one with the production deadline: the slow clients below hold their connections
        api = HttpApi.start("127.0.0.1", 0, Optional.of("s3cret"), new Exposition(registry), new StatusBook(), health,
                HttpApi.REQUEST_SECONDS);
        for (int i = 0; i < HttpApi.MAX_CONNECTIONS; i++) {
            slowClient();
        }
        // Hundreds more, each with a whole request: refused, and none of them kept (they were, one timer and
        // one map entry each, until the heap was full). Each is held a second, unanswered, then closed.
        java.util.concurrent.ExecutorService clients = java.util.concurrent.Executors.newFixedThreadPool(100);
        List<java.util.concurrent.Future<Integer>> answers = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            answers.add(clients.submit(() -> {
                try (Socket s = new Socket("127.0.0.1", api.port())) {
                    s.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
                    s.setSoTimeout(10_000);
                    return s.getInputStream().read();
                } catch (IOException e) {
                    return -1;  // reset by the server: refused, as it should be
                }
            }));
        }
        for (java.util.concurrent.Future<Integer> answer : answers) {
            assertEquals(-1, answer.get(), "refused: no answer, then closed");
        }
        clients.shutdown();
        assertTrue(api.refused() >= 400, api.refused() + " refused");
        assertTrue(api.tracked() <= HttpApi.MAX_CONNECTIONS, api.tracked() + " tracked");
        for (Socket s : sockets) {
            s.close();
        }
        sockets.clear();
        await().atMost(Duration.ofSeconds(30)).until(() -> api.tracked() == 0);
    }

    /** Runs {@code script} in bash as {@code user} (bash's /dev/tcp is the client: no other program needed). */
    private static Process as(String user, String script) throws IOException {
        return new ProcessBuilder("setpriv", "--reuid=" + user, "--regid=nogroup", "--clear-groups", "bash", "-c",
                script).redirectErrorStream(true).start();
    }

    @Test
    void oneLocalUserCannotHoldEveryConnection() throws Exception {
        org.ievirsh.support.Root.require();
        // A student (nobody) opens 200 connections and keeps them busy with health checks, which need no token.
        Process attacker = as("nobody", "trap '' PIPE; fds=(); for i in $(seq 200); do"
                + " exec {fd}<>/dev/tcp/127.0.0.1/" + api.port() + " || break; fds+=($fd); done; for round in $(seq 60); do for fd in ${fds[@]}; do"
                + " printf 'GET /healthz HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' >&$fd 2>/dev/null; done; sleep 0.3; done");
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> api.refused() >= 100);
            // Another local user (daemon) is still served, and so is root (the admin, Prometheus on a host
            // where it runs as root).
            Process other = as("daemon", "exec 3<>/dev/tcp/127.0.0.1/" + api.port()
                    + " && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && head -1 <&3");
            assertTrue(other.waitFor(20, java.util.concurrent.TimeUnit.SECONDS));
            String answer = new String(other.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(answer.startsWith("HTTP/1.0 200"), answer);
            assertEquals(200, get("/metrics", "s3cret").statusCode());
            assertTrue(attacker.isAlive(), "the attack went on all along");
        } finally {
            attacker.destroyForcibly();
        }
    }

    @Test
    void procNetTcpIsReadByLocalAndRemoteEnds() {
        String table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
                + "   0: 0100007F:24F8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n"
                + "   1: 0100007F:D2F0 0100007F:24F8 01 00000000:00000000 00:00000000 00000000 65534        0 2 1\n";
        byte[] loopback = {127, 0, 0, 1};
        assertEquals("0100007F:D2F0", LoopbackPeers.hex(loopback, 0xD2F0));
        assertEquals(java.util.OptionalInt.of(65534), LoopbackPeers.find(table, LoopbackPeers.hex(loopback, 0xD2F0),
                LoopbackPeers.hex(loopback, 9464)));
        assertTrue(LoopbackPeers.find(table, LoopbackPeers.hex(loopback, 1), LoopbackPeers.hex(loopback, 9464))
                .isEmpty());
    }
}
