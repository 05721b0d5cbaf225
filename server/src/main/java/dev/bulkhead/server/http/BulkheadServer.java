package dev.bulkhead.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.engine.chat.ChatPrompts;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OpenAI-compatible HTTP server: {@code /v1/completions}, {@code /v1/chat/completions} (whole or SSE),
 * {@code /v1/models}, vLLM's {@code /tokenize} and {@code /detokenize}, {@code /health}, {@code /ready} and
 * {@code /metrics}, over a {@link ModelBackend}.
 *
 * <p>With {@link ApiKeys} configured every {@code /v1/}, {@code /tokenize} and {@code /detokenize} request needs
 * {@code Authorization: Bearer <key>} (see
 * {@link AuthFilter}); the ops endpoints stay open for probes and scrapers. Without keys the server binds only a
 * loopback address unless {@link ServerConfig#allowUnauthenticatedRemote()} says otherwise. Answers say who
 * produced them in {@code X-Bulkhead-Served-By}, and {@code X-Bulkhead-Degraded: true} marks a fallback's.
 *
 * <p>Built on Helidon SE 4's WebServer because it runs every request on its own virtual thread (so a handler can
 * simply block on the engine while thousands of streams wait, with no reactive plumbing), it is small (no
 * container, no injection), and it has SSE. Errors use OpenAI's shape and status codes; see
 * {@link ErrorResponses}. The TCP side (accepting, connection cap, timeouts, HTTP/1.0) is our {@link HttpListener}
 * around Helidon's HTTP/1 handling, since Helidon's own listener dies on a failed accept; see there.
 *
 * <pre>{@code
 * BulkheadServer server = BulkheadServer.start(ServerConfig.local(8000), backend, registry);
 * ... server.port() ...
 * server.stop();
 * }</pre>
 */
public final class BulkheadServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BulkheadServer.class);

    private final HttpListener listener;
    private final ModelBackend backend;
    private final DisconnectWatcher watcher;
    private final RequestCpuPool cpu;

    private BulkheadServer(HttpListener listener, ModelBackend backend, DisconnectWatcher watcher,
                           RequestCpuPool cpu) {
        this.listener = listener;
        this.backend = backend;
        this.watcher = watcher;
        this.cpu = cpu;
    }

    /**
     * Binds and starts serving {@code backend}; {@code registry} is scraped by {@code /metrics} and should be the
     * one the engine or router registered its meters in. The server owns the backend and closes it on stop (and
     * when starting fails).
     *
     * @throws IllegalStateException when {@code config} binds a non-loopback host without API keys and without
     *                               {@link ServerConfig#allowUnauthenticatedRemote()}
     */
    public static BulkheadServer start(ServerConfig config, ModelBackend backend, PrometheusMeterRegistry registry) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(registry, "registry");
        try {
            checkExposure(config);
            return bind(config, backend, registry);
        } catch (RuntimeException e) {
            // NOTE: the server owns the backend from the call on, so a failed start must not leak its engines.
            backend.close();
            throw e;
        }
    }

    /**
     * Refuses (with {@link IllegalStateException}) an open server on a non-loopback address: without keys anyone
     * who reaches the port can spend the node's compute, so that must be asked for explicitly. {@link #start} calls
     * it; the CLI calls it first too, to fail before loading any model.
     */
    public static void checkExposure(ServerConfig config) {
        if (config.apiKeys().enabled() || config.allowUnauthenticatedRemote()) {
            return;
        }
        if (!isLoopback(config.host())) {
            throw new IllegalStateException("refusing to listen on " + config.host() + " without API keys: anyone "
                    + "who reaches it could use the models. Configure keys (--api-key-file FILE or the "
                    + ApiKeys.ENV + " environment variable), bind 127.0.0.1, or pass --allow-unauthenticated-remote "
                    + "(ServerConfig.allowUnauthenticatedRemote) to serve openly on purpose.");
        }
    }

    private static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cannot resolve host '" + host + "'", e);
        }
    }

    private static BulkheadServer bind(ServerConfig config, ModelBackend backend, PrometheusMeterRegistry registry) {
        ObjectMapper json = new ObjectMapper();
        ErrorResponses errors = new ErrorResponses(json);
        JsonBodies bodies = new JsonBodies(json, config.maxBodyBytes());
        ChatPrompts prompts = new ChatPrompts();
        OpsHandlers ops = new OpsHandlers(backend, json, registry);
        DisconnectWatcher watcher = DisconnectWatcher.system();
        RequestCpuPool cpu = new RequestCpuPool(config.requestCpu());
        PromptLimits limits = new PromptLimits(backend);
        Handler completions = new CompletionHandler(false, backend, json, bodies, errors,
                new RequestPreparer(false, backend, json, bodies, prompts, limits), cpu, config.logPrompts(), watcher);
        Handler chat = new CompletionHandler(true, backend, json, bodies, errors,
                new RequestPreparer(true, backend, json, bodies, prompts, limits), cpu, config.logPrompts(), watcher);
        TokenizeHandlers tokenize = new TokenizeHandlers(backend, json, bodies, errors, prompts, limits, cpu);
        Handler notFound = (req, res) -> errors.send(res, new ApiException(404, "invalid_request_error", null,
                "not_found", "no endpoint " + req.prologue().method().text() + " " + req.path().path(), -1));
        HttpRouting.Builder routing = HttpRouting.builder()
                .addFilter(new RequestEndFilter())
                .addFilter(new RequestLogFilter(registry))
                .addFilter(new BrowserGuardFilter(config.browserAccess(), !config.apiKeys().enabled(),
                        !isLoopback(config.host()), errors))
                .addFilter(new AuthFilter(config.apiKeys(), errors))
                .post("/v1/completions", completions)
                .post("/v1/chat/completions", chat)
                .post("/tokenize", tokenize::tokenize)
                .post("/detokenize", tokenize::detokenize)
                .get("/v1/models", ops::models)
                .get("/health", ops::health)
                .get("/ready", ops::ready)
                .get("/ready/{model}", ops::readyModel)
                .get("/metrics", ops::metrics);
        // NOTE: RFC 9110: HEAD works wherever GET does; HttpListener sends such an answer without its body.
        routing.head("/v1/models", ops::models).head("/health", ops::health).head("/ready", ops::ready)
                .head("/ready/{model}", ops::readyModel).head("/metrics", ops::metrics);
        // NOTE: routes match in order, so these only see the methods the routes above did not take.
        for (String path : new String[] {"/v1/completions", "/v1/chat/completions", "/tokenize", "/detokenize"}) {
            routing.any(path, new MethodNotAllowed(errors, "POST"));
        }
        for (String path : new String[] {"/v1/models", "/health", "/ready", "/ready/{model}", "/metrics"}) {
            routing.any(path, new MethodNotAllowed(errors, "GET, HEAD"));
        }
        routing.any(notFound);
        HttpListener listener;
        try {
            listener = HttpListener.start(config, routing, errors, registry);
        } catch (RuntimeException e) {
            watcher.close();
            cpu.close();
            throw e;
        }
        LOG.info("bulkhead server listening on {}:{} serving {} ({})", config.host(), listener.port(), backend.models(),
                config.apiKeys().enabled() ? config.apiKeys().size() + " API keys required on /v1/"
                        : "no API keys: /v1/ is open");
        return new BulkheadServer(listener, backend, watcher, cpu);
    }

    /** The bound port. */
    public int port() {
        return listener.port();
    }

    /** Stops accepting requests and closes the backend. */
    public void stop() {
        try {
            listener.close();
        } finally {
            watcher.close();
            cpu.close();
            backend.close();
        }
    }

    @Override
    public void close() {
        stop();
    }

}
