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
import java.util.concurrent.atomic.AtomicInteger;
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
 *   <li>at most {@link #MAX_CONNECTIONS} connections; one that has not sent
 *       a whole request within {@link #REQUEST_SECONDS} is closed, and so is
 *       one idle for as long.</li>
 * </ul>
 */
public final class HttpApi implements AutoCloseable {
    private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    /** MAX_CONNECTIONS is how many connections are served at once. */
    static final int MAX_CONNECTIONS = 128;
    /** REQUEST_SECONDS is how long a connection may take to send a request, or stay idle. */
    static final int REQUEST_SECONDS = 10;

    private final Vertx vertx;
    private final HttpServer server;

    private HttpApi(Vertx vertx, HttpServer server) {
        this.vertx = vertx;
        this.server = server;
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
        HttpServerOptions options = new HttpServerOptions().setIdleTimeout(requestSeconds)
                .setIdleTimeoutUnit(TimeUnit.SECONDS).setMaxInitialLineLength(4096).setMaxHeaderSize(8192);
        Connections connections = new Connections(vertx, requestSeconds);
        HttpServer server = vertx.createHttpServer(options).connectionHandler(connections::opened)
                .requestHandler(request -> {
                    connections.requested(request);
                    router.handle(request);
                });
        Future<HttpServer> listening = server.listen(port, host);
        try {
            return new HttpApi(vertx, listening.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS));
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
     * limit, closed when no whole request came within
     * {@link #REQUEST_SECONDS} of their start or of their last answer.
     */
    private static final class Connections {
        private final Vertx vertx;
        private final long deadlineMillis;
        private final AtomicInteger open = new AtomicInteger();
        private final Map<HttpConnection, Long> deadlines = new ConcurrentHashMap<>();

        Connections(Vertx vertx, int requestSeconds) {
            this.vertx = vertx;
            this.deadlineMillis = requestSeconds * 1000L;
        }

        void opened(HttpConnection conn) {
            if (open.incrementAndGet() > MAX_CONNECTIONS) {
                open.decrementAndGet();
                conn.close();
                return;
            }
            deadline(conn);
            conn.closeHandler(v -> {
                cancel(conn);
                open.decrementAndGet();
            });
        }

        /** A whole request came: its connection has as long as it likes until the answer is sent. */
        void requested(HttpServerRequest request) {
            HttpConnection conn = request.connection();
            cancel(conn);
            request.response().endHandler(v -> deadline(conn));
        }

        private void deadline(HttpConnection conn) {
            deadlines.put(conn, vertx.setTimer(deadlineMillis, id -> conn.close()));
        }

        private void cancel(HttpConnection conn) {
            Long timer = deadlines.remove(conn);
            if (timer != null) {
                vertx.cancelTimer(timer);
            }
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
