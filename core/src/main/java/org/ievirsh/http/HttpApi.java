package org.ievirsh.http;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.FileSystemOptions;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.ievirsh.metrics.Exposition;
import org.ievirsh.status.StatusBook;
import org.ievirsh.status.StatusFiles;

/**
 * HttpApi serves what admins and Prometheus read: {@code /metrics},
 * {@code /healthz}, {@code /readyz} and {@code /api/v1/vms} (every VM's
 * status as JSON). Whoever can reach the port must not starve it nor, with
 * a token, read it:
 *
 * <ul>
 *   <li>with {@code http.tokenFile}, every endpoint but {@code /healthz} and
 *       {@code /readyz} wants {@code Authorization: Bearer <token>};</li>
 *   <li>{@code /metrics} and {@code /api/v1/vms} are built at most once a
 *       second, whatever the number of requests, each on a worker of its own
 *       (a flood of one never delays the other);</li>
 *   <li>at most {@link #MAX_CONNECTIONS} connections, at most
 *       {@link #PER_PEER} of them from one peer: a local user (found by the
 *       uid owning the other end of a loopback connection: every local user
 *       comes from 127.0.0.1) or one remote address. Root and the
 *       controller's own user are not bound per peer. So one student who
 *       holds connections open (the limits act before the token is read)
 *       leaves room for Prometheus and the admin;</li>
 *   <li>one that has not sent a whole request within
 *       {@link #REQUEST_SECONDS} is closed, and so is one idle for as long;
 *       a refused connection is counted ({@link #refused()}), never enters
 *       the maps, is not answered and is closed a second later (a client
 *       that reconnects at once would otherwise spin, and the event loop
 *       with it).</li>
 * </ul>
 */
public final class HttpApi implements AutoCloseable {
    private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    /** MAX_CONNECTIONS is how many connections are served at once. */
    static final int MAX_CONNECTIONS = 128;
    /** PER_PEER is how many of those one local user (or one remote address) may hold. */
    static final int PER_PEER = 16;
    /** A refused connection is held this long, unanswered, before it is closed; at most HELD at once. */
    static final long REFUSED_HELD_MILLIS = 1000;
    static final int HELD = 1024;
    /** REQUEST_SECONDS is how long a connection may take to send a request, or stay idle. */
    static final int REQUEST_SECONDS = 10;

    private final Vertx vertx;
    private final HttpServer server;
    private final Connections connections;

    private HttpApi(Vertx vertx, HttpServer server, Connections connections) {
        this.vertx = vertx;
        this.server = server;
        this.connections = connections;
    }

    /** Health is what {@code /healthz} and {@code /readyz} answer. */
    public interface Health {
        /** Alive and working (every worker of the engine lives). */
        boolean healthy();

        /** Ready to be relied on; {@link #readiness} says why not. */
        boolean ready();

        String readiness();
    }

    /**
     * Starts serving on {@code host}:{@code port} (port 0: any free port);
     * {@code token}, when present, is what every request but the health
     * checks must carry.
     */
    public static HttpApi start(String host, int port, Optional<String> token, Exposition metrics,
                                StatusBook book, Health health) {
        return start(host, port, token, metrics, book, health, REQUEST_SECONDS);
    }

    /** The same with {@code requestSeconds} for a request to arrive (tests). */
    static HttpApi start(String host, int port, Optional<String> token, Exposition metrics,
                         StatusBook book, Health health, int requestSeconds) {
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(2)
                .setFileSystemOptions(new FileSystemOptions().setFileCachingEnabled(false)
                        .setClassPathResolvingEnabled(false)));
        WorkerExecutor scrapes = vertx.createSharedWorkerExecutor("http-metrics", 1);
        WorkerExecutor api = vertx.createSharedWorkerExecutor("http-api", 1);
        Cached scraped = new Cached(metrics::bytes);
        Cached vms = new Cached(() -> {
            try {
                return StatusFiles.json().writeValueAsBytes(book.all());
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        });
        Router router = Router.router(vertx);
        router.get("/healthz").handler(ctx -> text(ctx, health.healthy() ? 200 : 503,
                health.healthy() ? "ok" : "a worker is gone"));
        router.get("/readyz").handler(ctx -> text(ctx, health.ready() ? 200 : 503, health.readiness()));
        router.route().handler(ctx -> {
            if (token.isPresent() && !authorized(ctx.request(), token.get())) {
                ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"ie-virsh\"");
                text(ctx, 401, "this endpoint needs Authorization: Bearer <the token of http.tokenFile>");
            } else {
                ctx.next();
            }
        });
        router.get("/metrics").handler(ctx -> blocking(scrapes, ctx, scraped, PROMETHEUS_TEXT));
        router.get("/api/v1/vms").handler(ctx -> blocking(api, ctx, vms, "application/json"));
        // No HTTP/2 over cleartext (Prometheus speaks HTTP/1.1): with it, the server first waits for a client's
        // bytes to tell the protocol, and a connection that sends none is not seen by the limits below at all.
        HttpServerOptions options = new HttpServerOptions().setHttp2ClearTextEnabled(false)
                .setIdleTimeout(requestSeconds).setIdleTimeoutUnit(TimeUnit.SECONDS).setMaxInitialLineLength(4096).setMaxHeaderSize(8192);
        Connections connections = new Connections(vertx, requestSeconds);
        HttpServer server = vertx.createHttpServer(options).connectionHandler(connections::opened)
                .requestHandler(request -> {
                    if (connections.requested(request)) {
                        router.handle(request);
                    }
                });
        Future<HttpServer> listening = server.listen(port, host);
        try {
            return new HttpApi(vertx, listening.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS),
                    connections);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            vertx.close();
            throw new IllegalStateException("interrupted while starting HTTP", e);
        } catch (ExecutionException | TimeoutException e) {
            vertx.close();
            throw new IllegalStateException("cannot listen on " + host + ":" + port + ": "
                    + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()), e);
        }
    }

    /**
     * Connections keeps the connections within bounds: refused over the
     * limits, closed when no whole request came within
     * {@link #REQUEST_SECONDS} of their start or of their last answer. Its
     * maps hold the connections served now and nothing else: a refused
     * connection is never entered, and every entry leaves with its
     * connection.
     */
    static final class Connections {
        private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(HttpApi.class.getName());
        private final Vertx vertx;
        private final long deadlineMillis;
        private final int self = org.ievirsh.posix.Nss.effectiveUid();
        /** The peer of each connection served now. */
        private final Map<HttpConnection, String> served = new ConcurrentHashMap<>();
        private final Map<String, Integer> perPeer = new ConcurrentHashMap<>();
        private final Map<HttpConnection, Long> deadlines = new ConcurrentHashMap<>();
        private final java.util.concurrent.atomic.AtomicLong refused = new java.util.concurrent.atomic.AtomicLong();
        /** Refused connections held open now, to be closed a second after they came. */
        private final java.util.concurrent.atomic.AtomicInteger held = new java.util.concurrent.atomic.AtomicInteger();
        private final Map<String, Integer> unlogged = new ConcurrentHashMap<>();
        private volatile long loggedAt = System.nanoTime();

        Connections(Vertx vertx, int requestSeconds) {
            this.vertx = vertx;
            this.deadlineMillis = requestSeconds * 1000L;
        }

        void opened(HttpConnection conn) {
            String peer = peerOf(conn);
            boolean bound = !peer.equals("uid 0") && !peer.equals("uid " + self);
            if (served.size() >= MAX_CONNECTIONS || bound && perPeer.getOrDefault(peer, 0) >= PER_PEER) {
                refuse(conn, peer);
                return;
            }
            served.put(conn, peer);
            perPeer.merge(peer, 1, Integer::sum);
            deadline(conn);
            conn.closeHandler(v -> {
                cancel(conn);
                if (served.remove(conn) != null) {
                    perPeer.computeIfPresent(peer, (p, n) -> n > 1 ? n - 1 : null);
                }
            });
        }

        /** Who is at the other end: a local user by uid, else the remote address. */
        private static String peerOf(HttpConnection conn) {
            io.vertx.core.net.SocketAddress remote = conn.remoteAddress();
            io.vertx.core.net.SocketAddress local = conn.localAddress();
            if (remote == null || remote.host() == null) {
                return "unknown";
            }
            if (local != null && local.host() != null && LoopbackPeers.isLoopback(remote.host())) {
                java.util.OptionalInt uid = LoopbackPeers.uidOf(remote.host(), remote.port(), local.host(),
                        local.port());
                if (uid.isPresent()) {
                    return "uid " + uid.getAsInt();
                }
            }
            return remote.host();
        }

        private void refuse(HttpConnection conn, String peer) {
            refused.incrementAndGet();
            unlogged.merge(peer, 1, Integer::sum);
            long now = System.nanoTime();
            if (now - loggedAt >= 10_000_000_000L) {
                loggedAt = now;
                Map<String, Integer> counts = new java.util.TreeMap<>(unlogged);
                unlogged.clear();
                LOG.warning("http: refused connections over their bounds (" + MAX_CONNECTIONS + " in all, " + PER_PEER
                        + " per peer) in the last 10 s: " + counts);
            }
            // Held a second before it is closed, unanswered (at most HELD at once): a client that reconnects as soon
            // as it is refused would otherwise spin, and make the controller's event loop spin with it.
            if (held.incrementAndGet() <= HELD) {
                vertx.setTimer(REFUSED_HELD_MILLIS, id -> {
                    held.decrementAndGet();
                    conn.close();
                });
            } else {
                held.decrementAndGet();
                conn.close();
            }
        }

        /**
         * A whole request came: its connection has as long as it likes until
         * the answer is sent. False for a connection that was refused (it
         * may still deliver what it sent before the close): not served.
         */
        boolean requested(HttpServerRequest request) {
            HttpConnection conn = request.connection();
            if (!served.containsKey(conn)) {
                return false;  // refused: no answer, it is closed when its second is over
            }
            cancel(conn);
            request.response().endHandler(v -> {
                if (served.containsKey(conn)) {
                    deadline(conn);
                }
            });
            return true;
        }

        private void deadline(HttpConnection conn) {
            Long before = deadlines.put(conn, vertx.setTimer(deadlineMillis, id -> {
                deadlines.remove(conn, id);
                conn.close();
            }));
            if (before != null) {
                vertx.cancelTimer(before);
            }
        }

        private void cancel(HttpConnection conn) {
            Long timer = deadlines.remove(conn);
            if (timer != null) {
                vertx.cancelTimer(timer);
            }
        }

        /** Connections tracked now, in any of the maps (a test's view: none may outlive its connection). */
        int tracked() {
            return Math.max(served.size(), deadlines.size());
        }
    }

    private static boolean authorized(HttpServerRequest request, String token) {
        String header = request.getHeader("Authorization");
        byte[] given = (header == null ? "" : header).getBytes(StandardCharsets.UTF_8);
        byte[] wanted = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(given, wanted);
    }

    private static void text(RoutingContext ctx, int code, String body) {
        ctx.response().setStatusCode(code).putHeader("content-type", "text/plain").end(body + "\n");
    }

    private static void blocking(WorkerExecutor executor, RoutingContext ctx, Cached body, String type) {
        executor.executeBlocking(body::get, false)
                .onSuccess(bytes -> ctx.response().putHeader("content-type", type).end(Buffer.buffer(bytes)))
                .onFailure(ctx::fail);
    }

    /** Cached is a body built at most once a second, however many ask for it. */
    private static final class Cached {
        private final Supplier<byte[]> build;
        private byte[] bytes;
        private long builtAt;

        Cached(Supplier<byte[]> build) {
            this.build = build;
        }

        synchronized byte[] get() {
            long now = System.nanoTime();
            if (bytes == null || now - builtAt >= 1_000_000_000L) {
                bytes = build.get();
                builtAt = System.nanoTime();
            }
            return bytes;
        }
    }

    /** Connections refused over the limits so far. */
    public long refused() {
        return connections.refused.get();
    }

    /** Connections tracked now (tests). */
    int tracked() {
        return connections.tracked();
    }

    /** The port actually listened on. */
    public int port() {
        return server.actualPort();
    }

    @Override
    public void close() {
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // Closing is best effort at shutdown.
        }
    }
}
