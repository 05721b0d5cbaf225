package dev.bulkhead.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.TokenDelta;
import dev.bulkhead.engine.api.TokenStream;
import io.helidon.webserver.ServerConnectionException;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v1/completions} and {@code POST /v1/chat/completions}: parse and validate strictly, render chat
 * messages, then answer whole or as SSE chunks. Each request runs on its own virtual thread, so blocking on the
 * engine here is cheap. A client that goes away mid-stream is noticed on the next write and its request aborted.
 */
final class CompletionHandler implements Handler {

    private static final Logger LOG = LoggerFactory.getLogger(CompletionHandler.class);
    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);
    // NOTE: how often a stream waiting for its next token wakes up; it only bounds how late a stuck stream ends.
    private static final long POLL_MILLIS = 1_000;
    private static final long ORIGIN_WAIT_MILLIS = 1_000;
    /** Response header naming the model that answered. */
    static final String SERVED_BY = "X-Bulkhead-Served-By";
    /** Response header present, {@code true}, when a fallback answered. */
    static final String DEGRADED = "X-Bulkhead-Degraded";

    private final boolean chat;
    private final ModelBackend backend;
    private final ObjectMapper json;
    private final JsonBodies bodies;
    private final ErrorResponses errors;
    private final ChatPrompts prompts;
    private final boolean logPrompts;

    CompletionHandler(boolean chat, ModelBackend backend, ObjectMapper json, JsonBodies bodies, ErrorResponses errors,
                      ChatPrompts prompts, boolean logPrompts) {
        this.chat = chat;
        this.backend = backend;
        this.json = json;
        this.bodies = bodies;
        this.errors = errors;
        this.prompts = prompts;
        this.logPrompts = logPrompts;
    }

    @Override
    public void handle(ServerRequest req, ServerResponse res) {
        String requestId = req.context().get(RequestId.class).map(RequestId::value).orElse("-");
        try {
            OpenAiRequest r = RequestParser.parse(bodies.readObject(req.content().inputStream(),
                    req.headers().contentLength().orElse(-1)), chat);
            AuthFilter.checkModelAccess(req, r.model());
            if (!backend.serves(r.model())) {
                throw ApiException.unknownModel(r.model());
            }
            String id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
            GenerateRequest g = toGenerate(id, r);
            if (logPrompts) {
                LOG.info("request {} prompt: {}", requestId, g.prompt());
            }
            ResponseBodies shapes = new ResponseBodies(json, id, Instant.now().getEpochSecond(), chat);
            if (r.stream()) {
                stream(res, r, g, shapes, requestId);
            } else {
                complete(res, r, g, shapes);
            }
        } catch (RuntimeException e) {
            errors.send(res, ErrorResponses.toApi(e, requestId));
        }
    }

    private GenerateRequest toGenerate(String id, OpenAiRequest r) {
        if (r.chat()) {
            String prompt = prompts.render(backend.chatTemplate(r.model()), r.messages());
            return new GenerateRequest(id, prompt, null, r.sampling(), 0, null);
        }
        return new GenerateRequest(id, r.prompt(), r.promptTokenIds(), r.sampling(), 0, null);
    }

    private void complete(ServerResponse res, OpenAiRequest r, GenerateRequest g, ResponseBodies shapes) {
        CompletableFuture<ModelBackend.ServedCompletion> f = backend.complete(r.model(), g);
        ModelBackend.ServedCompletion served;
        try {
            served = f.join();
        } catch (RuntimeException e) {
            f.cancel(true);
            throw e;
        }
        ModelBackend.Origin origin = new ModelBackend.Origin(served.servedBy(), served.degraded());
        originHeaders(res, origin);
        res.header("Content-Type", "application/json");
        res.send(shapes.completion(served.servedBy(), served.completion(), origin));
    }

    private void stream(ServerResponse res, OpenAiRequest r, GenerateRequest g, ResponseBodies shapes,
                        String requestId) {
        ModelBackend.ServedStream ss = backend.streamServed(r.model(), g);
        TokenStream ts = ss.tokens();
        DeltaQueue queue = new DeltaQueue();
        ts.subscribe(queue);
        boolean finished = false;
        try {
            DeltaQueue.Event first = next(queue);
            if (first instanceof DeltaQueue.Failed(Throwable error)) {
                // NOTE: nothing is sent yet, so a rejection (overload, bad input) still gets its real status.
                finished = true;
                errors.send(res, ErrorResponses.toApi(error, requestId));
                return;
            }
            originOf(ss).ifPresent(o -> originHeaders(res, o));
            res.header("Content-Type", "text/event-stream");
            res.header("Cache-Control", "no-cache");
            try (OutputStream out = res.outputStream()) {
                finished = writeEvents(out, first, queue, r, ts, shapes, requestId);
            }
        } catch (UncheckedIOException | IOException | ServerConnectionException e) {
            LOG.info("request {}: client went away mid-stream; aborting it", requestId);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (!finished) {
                queue.cancel();
                ts.completion().cancel(true);
            }
        }
    }

    /** Writes chunks until the stream ends; returns true when it ended by itself (not by a client failure). */
    private boolean writeEvents(OutputStream out, DeltaQueue.Event first, DeltaQueue queue, OpenAiRequest r,
                                TokenStream ts, ResponseBodies shapes, String requestId)
            throws IOException, InterruptedException {
        boolean firstChunk = true;
        for (DeltaQueue.Event e = first; ; e = next(queue)) {
            switch (e) {
                case DeltaQueue.Delta(TokenDelta d) -> {
                    if (!d.text().isEmpty() || d.isLast() || firstChunk) {
                        write(out, shapes.chunk(r.model(), d.text(), d.finishReason(), firstChunk, r.includeUsage()));
                        firstChunk = false;
                    }
                    if (d.isLast()) {
                        if (r.includeUsage()) {
                            Completion c = ts.completion().join();
                            write(out, shapes.usageChunk(r.model(), c.promptTokenIds().length,
                                    c.tokenIds().length));
                        }
                        out.write(DONE);
                        out.flush();
                        return true;
                    }
                }
                case DeltaQueue.Failed(Throwable error) -> {
                    // NOTE: the status line is gone; the error travels as an SSE event, as vLLM does.
                    write(out, errors.body(ErrorResponses.toApi(error, requestId)));
                    out.write(DONE);
                    out.flush();
                    return true;
                }
                case DeltaQueue.Done() -> {
                    out.write(DONE);
                    out.flush();
                    return true;
                }
            }
        }
    }

    /**
     * Says who answered: {@value #SERVED_BY} always, {@value #DEGRADED} {@code true} when a fallback did, so a
     * client or proxy can tell a degraded answer without parsing the body.
     */
    private static void originHeaders(ServerResponse res, ModelBackend.Origin origin) {
        res.header(SERVED_BY, origin.servedBy());
        if (origin.degraded()) {
            res.header(DEGRADED, "true");
        }
    }

    /** The stream's origin once its first event is in; empty when it failed or (against the contract) is late. */
    private static Optional<ModelBackend.Origin> originOf(ModelBackend.ServedStream ss) {
        try {
            // NOTE: a router completes the origin in the same step that publishes the first delta, so this waits
            // microseconds at most; the bound only guards against a backend that breaks the contract.
            return Optional.of(ss.origin().get(ORIGIN_WAIT_MILLIS, TimeUnit.MILLISECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        } catch (ExecutionException | TimeoutException | CancellationException e) {
            return Optional.empty();
        }
    }

    private static DeltaQueue.Event next(DeltaQueue queue) throws InterruptedException {
        DeltaQueue.Event e;
        while ((e = queue.poll(POLL_MILLIS)) == null) {
            // keep waiting: the engine's deadline, not the HTTP layer, bounds a request's time
        }
        return e;
    }

    private static void write(OutputStream out, byte[] data) throws IOException {
        out.write("data: ".getBytes(StandardCharsets.US_ASCII));
        out.write(data);
        out.write("\n\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }
}
