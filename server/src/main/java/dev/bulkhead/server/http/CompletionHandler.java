package dev.bulkhead.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.TokenDelta;
import dev.bulkhead.engine.chat.ToolCall;
import dev.bulkhead.engine.chat.ToolCallExtractor;
import dev.bulkhead.engine.chat.ToolCalls;
import io.helidon.http.Status;
import io.helidon.webserver.ServerConnectionException;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v1/completions} and {@code POST /v1/chat/completions}: parse and validate strictly, render chat
 * messages, then answer whole or as SSE chunks. Each request runs on its own virtual thread, so blocking on the
 * engine here is cheap. A client that goes away is noticed by the {@link DisconnectWatcher} (or, mid-stream, on the
 * next write) and its request aborted, which frees its KV blocks.
 */
final class CompletionHandler implements Handler {

    private static final Logger LOG = LoggerFactory.getLogger(CompletionHandler.class);
    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);
    // NOTE: how often a stream waiting for its next token wakes up; it only bounds how late a stuck stream ends.
    private static final long POLL_MILLIS = 1_000;
    private static final long ORIGIN_WAIT_MILLIS = 1_000;
    /** nginx's status for "the client closed the connection before the answer": recorded in metrics, never seen. */
    private static final Status CLIENT_CLOSED = Status.create(499, "Client Closed Request");
    /** Response header naming the model that answered. */
    static final String SERVED_BY = "X-Bulkhead-Served-By";
    /** Response header present, {@code true}, when a fallback answered. */
    static final String DEGRADED = "X-Bulkhead-Degraded";

    private final boolean chat;
    private final ModelBackend backend;
    private final ObjectMapper json;
    private final JsonBodies bodies;
    private final ErrorResponses errors;
    private final RequestPreparer preparer;
    private final RequestCpuPool cpu;
    private final boolean logPrompts;
    private final DisconnectWatcher watcher;

    CompletionHandler(boolean chat, ModelBackend backend, ObjectMapper json, JsonBodies bodies, ErrorResponses errors,
                      RequestPreparer preparer, RequestCpuPool cpu, boolean logPrompts, DisconnectWatcher watcher) {
        this.chat = chat;
        this.backend = backend;
        this.json = json;
        this.bodies = bodies;
        this.errors = errors;
        this.preparer = preparer;
        this.cpu = cpu;
        this.logPrompts = logPrompts;
        this.watcher = watcher;
    }

    @Override
    public void handle(ServerRequest req, ServerResponse res) {
        String requestId = req.context().get(RequestId.class).map(RequestId::value).orElse("-");
        try {
            // NOTE: the body is read here (I/O, which unmounts this virtual thread); everything CPU-bound or native
            // from parsing to tokenizing runs on the CPU pool, so the carriers stay free for other requests.
            byte[] body = bodies.read(req.content().inputStream(), req.headers().contentLength().orElse(-1));
            RequestPreparer.Prepared p = cpu.call(() -> preparer.prepare(req, body));
            if (logPrompts) {
                logPrompts(p, requestId);
            }
            ResponseBodies shapes = new ResponseBodies(json, p.id(), Instant.now().getEpochSecond(), chat);
            if (p.request().stream()) {
                stream(req, res, p, shapes, requestId);
            } else {
                complete(req, res, p, shapes, requestId);
            }
        } catch (RuntimeException e) {
            errors.send(res, ErrorResponses.toApi(e, requestId));
        }
    }

    /** Logs each prompt of the request once (not once per choice). */
    private static void logPrompts(RequestPreparer.Prepared p, String requestId) {
        List<GenerateRequest> gs = p.generate();
        for (int k = 0; k < gs.size(); k += p.request().n()) {
            GenerateRequest g = gs.get(k);
            LOG.info("request {} prompt{}: {}", requestId, gs.size() > p.request().n() ? "[" + k / p.request().n()
                    + "]" : "", g.prompt() != null ? g.prompt() : java.util.Arrays.toString(g.promptTokenIds()));
        }
    }

    private void complete(ServerRequest req, ServerResponse res, RequestPreparer.Prepared p, ResponseBodies shapes,
                          String requestId) {
        OpenAiRequest r = p.request();
        List<GenerateRequest> gs = p.generate();
        ToolCalls tools = p.tools();
        LogprobsBodies logprobs = p.logprobs();
        List<CompletableFuture<ModelBackend.ServedCompletion>> fs = new ArrayList<>(gs.size());
        List<ModelBackend.ServedCompletion> served = new ArrayList<>(gs.size());
        AtomicBoolean gone = new AtomicBoolean();
        try {
            for (int k = 0; k < gs.size(); k++) {
                GenerateRequest g = gs.get(k);
                try {
                    // NOTE: the engine tokenizes the prompt (a native call) inside complete, hence the CPU pool.
                    fs.add(cpu.call(() -> backend.complete(r.model(), g)));
                } catch (RuntimeException e) {
                    throw p.locate(e, k);
                }
            }
            try (DisconnectWatcher.Watch w = watch(req, () -> {
                gone.set(true);
                fs.forEach(f -> f.cancel(true));
            })) {
                allOrFirstFailure(fs, p).join();
            }
            fs.forEach(f -> served.add(f.join()));
        } catch (RuntimeException e) {
            fs.forEach(f -> f.cancel(true));
            if (gone.get() && e instanceof CancellationException) {
                clientLeft(res, requestId);
                return;
            }
            throw e;
        }
        ModelBackend.ServedCompletion first = served.get(0);
        ModelBackend.Origin origin = new ModelBackend.Origin(first.servedBy(), first.degraded());
        originHeaders(res, origin);
        res.header("Content-Type", "application/json");
        List<Completion> cs = served.stream().map(ModelBackend.ServedCompletion::completion).toList();
        List<ResponseBodies.Said> said = cs.stream().map(c -> tools.none() ? ResponseBodies.Said.text(c.text())
                : said(c.text(), tools, r.tools().parallel())).toList();
        // NOTE: "model" echoes what was asked for (an alias stays the alias), as streams and vLLM do; who answered is
        // in the headers and, when degraded, in the "bulkhead" object.
        // NOTE: with logprobs the body names every token through the tokenizer (native calls), so it is built on the
        // CPU pool too; the answer is already computed, so a full queue must not lose it: then it is built here.
        byte[] body = logprobs == null ? shapes.completion(r.model(), cs, r.n(), said, origin, null)
                : cpu.callOrRunHere(() -> shapes.completion(r.model(), cs, r.n(), said, origin, logprobs));
        res.send(body);
    }

    /**
     * Completes when every choice has, or, as soon as one fails, with that failure (naming its prompt): the caller
     * then cancels the others at once instead of waiting for choices whose answer can no longer be sent.
     */
    private static CompletableFuture<Void> allOrFirstFailure(List<? extends CompletableFuture<?>> fs,
                                                             RequestPreparer.Prepared p) {
        CompletableFuture<Void> out = new CompletableFuture<>();
        for (int k = 0; k < fs.size(); k++) {
            int choice = k;
            fs.get(k).whenComplete((v, e) -> {
                if (e != null) {
                    out.completeExceptionally(p.locate(e, choice));
                }
            });
        }
        CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new)).thenRun(() -> out.complete(null));
        return out;
    }

    /** A whole answer split into its content (null when only calls remain, as OpenAI sends it) and its calls. */
    private static ResponseBodies.Said said(String text, ToolCalls tools, boolean parallel) {
        ToolCallExtractor.Split split = ToolCallExtractor.Split.of(tools.extractor().push(text, true), parallel, 0);
        String c = split.text();
        boolean calls = !split.calls().isEmpty();
        return new ResponseBodies.Said(calls && c.isBlank() ? null : c, split.calls(),
                calls && tools.finishAsToolCalls());
    }

    private void stream(ServerRequest req, ServerResponse res, RequestPreparer.Prepared p, ResponseBodies shapes,
                        String requestId) {
        OpenAiRequest r = p.request();
        List<GenerateRequest> gs = p.generate();
        DeltaQueue queue = new DeltaQueue();
        List<ModelBackend.ServedStream> streams = new ArrayList<>(gs.size());
        boolean finished = false;
        // NOTE: a write notices a gone client too, but none happens while the request waits for its first token.
        try (DisconnectWatcher.Watch w = watch(req, queue::clientGone)) {
            for (int i = 0; i < gs.size(); i++) {
                GenerateRequest g = gs.get(i);
                ModelBackend.ServedStream ss;
                try {
                    ss = cpu.call(() -> backend.streamServed(r.model(), g));
                } catch (RuntimeException e) {
                    // NOTE: the finally below aborts the choices already started.
                    throw p.locate(e, i);
                }
                streams.add(ss);
                ss.tokens().subscribe(queue.subscriber(i));
            }
            DeltaQueue.Event first = next(queue);
            if (first instanceof DeltaQueue.ClientGone) {
                clientLeft(res, requestId);
                return;
            }
            if (first instanceof DeltaQueue.Failed(int choice, Throwable error)) {
                // NOTE: nothing is sent yet, so a rejection (overload, bad input) still gets its real status.
                errors.send(res, ErrorResponses.toApi(p.locate(error, choice), requestId));
                return;
            }
            originOf(streams.get(first.index())).ifPresent(o -> originHeaders(res, o));
            res.header("Content-Type", "text/event-stream");
            res.header("Cache-Control", "no-cache");
            try (OutputStream out = res.outputStream()) {
                finished = writeEvents(out, first, queue, p, streams, shapes, requestId);
            }
        } catch (UncheckedIOException | IOException | ServerConnectionException e) {
            LOG.debug("request {}: client went away mid-stream ({}); aborting it", requestId,
                    ClientDisconnects.describe(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (!finished) {
                queue.cancel();
                streams.forEach(ss -> ss.tokens().completion().cancel(true));
            }
        }
    }

    /**
     * Writes chunks until every choice's stream ended; returns true when they all ended by themselves (not by a
     * client failure or an error, after which the caller aborts the rest).
     */
    private boolean writeEvents(OutputStream out, DeltaQueue.Event first, DeltaQueue queue,
                                RequestPreparer.Prepared p, List<ModelBackend.ServedStream> streams,
                                ResponseBodies shapes, String requestId) throws IOException, InterruptedException {
        OpenAiRequest r = p.request();
        LogprobsBodies logprobs = p.logprobs();
        ToolCalls tools = p.tools();
        int n = streams.size();
        boolean[] started = new boolean[n];
        boolean[] ended = new boolean[n];
        int[] textOffset = new int[n];
        int[] callsSent = new int[n];
        ToolCallExtractor[] extractors = new ToolCallExtractor[n];
        for (int k = 0; !tools.none() && k < n; k++) {
            extractors[k] = tools.extractor();
        }
        int open = n;
        for (DeltaQueue.Event e = first; ; e = next(queue)) {
            int i = e.index();
            switch (e) {
                case DeltaQueue.Delta(var _, TokenDelta d) -> {
                    JsonNode lp = chunkLogprobs(logprobs, d, textOffset[i]);
                    String text = d.text();
                    List<ToolCall> calls = List.of();
                    if (extractors[i] != null) {
                        ToolCallExtractor.Split split = ToolCallExtractor.Split.of(
                                extractors[i].push(text, d.isLast()), r.tools().parallel(), callsSent[i]);
                        text = split.text();
                        calls = split.calls();
                    }
                    if (!text.isEmpty() || !calls.isEmpty() || d.isLast() || !started[i] || lp != null) {
                        String finish = d.isLast() ? ResponseBodies.finishReason(d.finishReason(),
                                tools.finishAsToolCalls() && callsSent[i] + calls.size() > 0) : null;
                        write(out, shapes.chunk(r.model(), i, text, calls, callsSent[i], finish, !started[i],
                                r.includeUsage(), lp));
                        callsSent[i] += calls.size();
                        started[i] = true;
                    }
                    if (d.logprobs() != null && logprobs != null) {
                        textOffset[i] += logprobs.text(d.logprobs().tokenId()).length();
                    }
                    if (d.isLast() && !ended[i]) {
                        ended[i] = true;
                        open--;
                    }
                }
                case DeltaQueue.Failed(int choice, Throwable error) -> {
                    // NOTE: the status line is gone; the error travels as an SSE event, as vLLM does.
                    write(out, errors.body(ErrorResponses.toApi(p.locate(error, choice), requestId)));
                    out.write(DONE);
                    out.flush();
                    return false;
                }
                case DeltaQueue.Done(var _) -> {
                    if (!ended[i]) {
                        ended[i] = true;
                        open--;
                    }
                }
                case DeltaQueue.ClientGone() -> {
                    LOG.debug("request {}: client went away mid-stream; aborting it", requestId);
                    return false;
                }
            }
            if (open == 0) {
                if (r.includeUsage()) {
                    List<Completion> cs = streams.stream().map(ss -> ss.tokens().completion().join()).toList();
                    write(out, shapes.usageChunk(r.model(), ResponseBodies.promptTokens(cs, r.n()),
                            cs.stream().mapToInt(c -> c.tokenIds().length).sum()));
                }
                out.write(DONE);
                out.flush();
                return true;
            }
        }
    }

    private DisconnectWatcher.Watch watch(ServerRequest req, Runnable onGone) {
        return watcher.watch(req.localPeer().address(), req.remotePeer().address(), onGone);
    }

    /**
     * Ends a request whose client closed the connection: its engine requests are cancelled already, and the status
     * (499, as nginx logs it) only reaches the metrics, since writing to a closed socket fails.
     */
    private static void clientLeft(ServerResponse res, String requestId) {
        LOG.debug("request {}: client closed the connection before the answer; aborted it", requestId);
        try {
            res.status(CLIENT_CLOSED).send();
        } catch (RuntimeException e) {
            // expected: the peer is gone
        }
    }

    /** The log-probabilities object of one delta's token, or null when none were asked or it has no token. */
    private JsonNode chunkLogprobs(LogprobsBodies logprobs, TokenDelta d, int textOffset) {
        if (logprobs == null || d.logprobs() == null) {
            return null;
        }
        return chat ? logprobs.chat(List.of(d.logprobs())) : logprobs.completion(List.of(d.logprobs()), textOffset);
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
