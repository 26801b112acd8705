package org.ievirsh.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.file.FileSystemOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.ievirsh.status.StatusBook;
import org.ievirsh.status.StatusFiles;

/**
 * HttpApi serves what admins and Prometheus read: {@code /metrics},
 * {@code /healthz}, {@code /readyz} and {@code /api/v1/vms} (every VM's
 * status as JSON). Everything that takes time runs off the event loop.
 */
public final class HttpApi implements AutoCloseable {
    private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private final Vertx vertx;
    private final HttpServer server;

    private HttpApi(Vertx vertx, HttpServer server) {
        this.vertx = vertx;
        this.server = server;
    }

    /**
     * Starts serving on {@code host}:{@code port} (port 0: any free port);
     * {@code ready} and {@code readiness} answer {@code /readyz}.
     */
    public static HttpApi start(String host, int port, PrometheusMeterRegistry registry, StatusBook book,
                                BooleanSupplier ready, Supplier<String> readiness) {
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(2)
                .setFileSystemOptions(new FileSystemOptions().setFileCachingEnabled(false)
                        .setClassPathResolvingEnabled(false)));
        Router router = Router.router(vertx);
        router.get("/metrics").handler(ctx -> blocking(vertx, ctx, registry::scrape, PROMETHEUS_TEXT));
        router.get("/healthz").handler(ctx -> ctx.response().putHeader("content-type", "text/plain").end("ok\n"));
        router.get("/readyz").handler(ctx -> ctx.response().setStatusCode(ready.getAsBoolean() ? 200 : 503)
                .putHeader("content-type", "text/plain").end(readiness.get() + "\n"));
        router.get("/api/v1/vms").handler(ctx -> blocking(vertx, ctx, () -> {
            try {
                return StatusFiles.json().writerWithDefaultPrettyPrinter().writeValueAsString(book.all());
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }, "application/json"));
        Future<HttpServer> listening = vertx.createHttpServer().requestHandler(router).listen(port, host);
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

    private static void blocking(Vertx vertx, RoutingContext ctx, Supplier<String> body, String type) {
        vertx.executeBlocking(body::get, false)
                .onSuccess(text -> ctx.response().putHeader("content-type", type).end(text))
                .onFailure(ctx::fail);
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
