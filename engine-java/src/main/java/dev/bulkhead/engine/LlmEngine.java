package dev.bulkhead.engine;

import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.api.TokenDelta;
import dev.bulkhead.engine.api.TokenStream;
import dev.bulkhead.engine.internal.DeltaPublisher;
import dev.bulkhead.engine.internal.cpu.CpuGemmSettings;
import dev.bulkhead.engine.internal.guided.JsonGuide;
import dev.bulkhead.engine.internal.guided.JsonGuideFactory;
import dev.bulkhead.engine.internal.runner.BackendLostException;
import dev.bulkhead.engine.internal.runner.CpuRunnerOptions;
import dev.bulkhead.engine.internal.runner.ModelRunner;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.kvcache.KvCacheConfig;
import dev.bulkhead.kvcache.KvCacheManager;
import dev.bulkhead.kvcache.MemoryBudget;
import dev.bulkhead.model.LoadedModel;
import dev.bulkhead.model.ModelLoader;
import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.tokenizer.Tokenizer;
import dev.bulkhead.scheduler.Scheduler;
import dev.bulkhead.scheduler.SchedulerConfig;
import dev.bulkhead.scheduler.SchedulerRequest;
import dev.bulkhead.scheduler.SchedulerStats;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One loaded model serving many concurrent requests from one copy of its weights, with continuous batching
 * over a paged KV cache. Safe to call from any thread, virtual threads included. Requests are validated
 * before anything is queued ({@link InvalidRequestException} names the field); a failing step fails only
 * its own requests; every way a request ends frees its KV blocks.
 *
 * <pre>{@code
 * try (LlmEngine engine = LlmEngine.open("path/to/model", EngineOptions.defaults())) {
 *     Completion c = engine.generate(GenerateRequest.of("Once upon a time", SamplingParams.greedy(64))).join();
 * }
 * }</pre>
 */
public final class LlmEngine implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LlmEngine.class);

    /** System property that makes the loop check the KV cache invariants after every step (tests set it). */
    public static final String CHECK_INVARIANTS_PROPERTY = "bulkhead.checkInvariants";

    private final String name;
    private final LoadedModel model;
    private final ModelRunner runner;
    private final EngineLoop loop;
    private final Thread loopThread;
    private final ExecutorService delivery = Executors.newVirtualThreadPerTaskExecutor();
    private final OffCarrier prepare;
    private final Map<String, ActiveRequest> inFlight = new ConcurrentHashMap<>();
    private final int maxModelLen;
    private final int kvCapacityTokens;
    private final int[] eosIds;
    private final JsonGuideFactory guides;
    private final EngineMetrics metrics;
    private final Duration stopTimeout;
    private volatile boolean closed;
    // NOTE: set once the runner and the model are freed: a second shutdown (a framework's drain, then its destroy
    // callback) must not free them again; one after a loop that would not stop tries again.
    private final java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean();

    /** How long {@link #shutdown} waits for a step in progress before it interrupts the loop. */
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(5);

    /**
     * Loads the model at {@code model} (a Hugging Face directory, a {@code .gguf} or a llama2.c {@code .bin}) with
     * {@link EngineOptions#defaults()} and starts its engine loop.
     */
    public static LlmEngine open(java.nio.file.Path model) {
        return open(model.toString(), EngineOptions.defaults());
    }

    /** Loads {@code modelSpec} (see {@link ModelLoader#load(String)}) and starts its engine loop. */
    public static LlmEngine open(String modelSpec, EngineOptions options) {
        JvmRequirements.check();
        return new LlmEngine(ModelLoader.load(modelSpec), options, new SimpleMeterRegistry());
    }

    /** As {@link #open(String, EngineOptions)}, with metrics registered in {@code registry}. */
    public static LlmEngine open(String modelSpec, EngineOptions options, MeterRegistry registry) {
        JvmRequirements.check();
        return new LlmEngine(ModelLoader.load(modelSpec), options, registry);
    }

    /** Starts an engine over an already loaded model, which it then owns and closes. */
    public LlmEngine(LoadedModel model, EngineOptions options, MeterRegistry registry) {
        this(model, options, registry, ModelRunnerFactory.CPU);
    }

    /**
     * As {@link #LlmEngine(LoadedModel, EngineOptions, MeterRegistry)} on a runner from {@code runners}. Not
     * API: {@code ModelRunnerFactory} is internal (the router and the CUDA backend use this).
     */
    public LlmEngine(LoadedModel model, EngineOptions options, MeterRegistry registry, ModelRunnerFactory runners) {
        this(defaultName(model), model, options, registry, runners);
    }

    /**
     * The full constructor: {@code name} tags metrics and names the loop thread (a router passes the model's
     * alias and generation). Once constructed, the engine owns {@code model} and closes it; if the constructor
     * throws, the caller still owns it. Not API, like the constructor above.
     */
    public LlmEngine(String name, LoadedModel model, EngineOptions options, MeterRegistry registry,
                     ModelRunnerFactory runners) {
        JvmRequirements.check();
        this.name = name;
        this.model = model;
        ModelConfig c = model.config();
        this.maxModelLen = resolveMaxModelLen(options, c);
        long kvBytesPerToken = c.kvBytesPerToken(runners.kvBytesPerElement());
        KvPoolSize pool = KvPoolSize.choose(options, maxModelLen, kvBytesPerToken, () -> runners.autoKvLimit(c));
        KvCacheConfig kv = new MemoryBudget(pool.budgetBytes(), options.blockSize(), kvBytesPerToken, maxModelLen)
                .toConfig(options.prefixCaching());
        this.kvCapacityTokens = kv.usableBlocks() * kv.blockSize();
        this.runner = runners.create(model.weights(), new CpuRunnerOptions(options.threads(), kv.blockSize(),
                kv.numBlocks(), options.maxBatchedTokens(), CpuGemmSettings.of(options.cpuGemm())));
        Scheduler scheduler = new Scheduler(new SchedulerConfig(options.maxBatchedTokens(), options.maxRunning(),
                maxModelLen), new KvCacheManager(kv));
        EngineLoop[] holder = new EngineLoop[1];
        this.metrics = new EngineMetrics(registry, name, () -> holder[0].stats());
        this.prepare = new OffCarrier(name);
        this.loop = new EngineLoop(name, scheduler, runner, metrics, Boolean.getBoolean(CHECK_INVARIANTS_PROPERTY),
                options.asyncScheduling());
        this.stopTimeout = STOP_TIMEOUT;
        holder[0] = loop;
        this.eosIds = eosIds(c, model.tokenizer());
        this.guides = JsonGuideFactory.of(model.tokenizer(), c.vocabSize());
        this.loopThread = Thread.ofPlatform().daemon().unstarted(loop);
        loopThread.start();
        LOG.info("engine for {} started: {} KV blocks of {} tokens ({} tokens; {}), context {}, {} threads, {} "
                + "scheduling", name, kv.numBlocks(), kv.blockSize(), kvCapacityTokens, pool.description(), maxModelLen,
                options.threads(), loop.isAsync() ? "asynchronous" : "synchronous");
    }

    private static String defaultName(LoadedModel model) {
        return model.origin().getFileName() == null ? "model" : model.origin().getFileName().toString();
    }

    private static int resolveMaxModelLen(EngineOptions o, ModelConfig c) {
        if (o.maxModelLen() == 0) {
            return Math.min(c.maxPositionEmbeddings(), EngineOptions.DEFAULT_MAX_MODEL_LEN);
        }
        if (o.maxModelLen() > c.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("maxModelLen " + o.maxModelLen() + " is past the model's "
                    + "max_position_embeddings " + c.maxPositionEmbeddings());
        }
        return o.maxModelLen();
    }

    private static int[] eosIds(ModelConfig c, Tokenizer t) {
        int[] eos = c.eosTokenIds();
        int tokEos = t.eosId();
        return tokEos >= 0 && Arrays.stream(eos).noneMatch(e -> e == tokEos)
                ? IntStream.concat(Arrays.stream(eos), IntStream.of(tokEos)).toArray() : eos;
    }

    /**
     * Queues a request and returns its completion. Cancelling the future aborts the request and frees its
     * blocks; an expired deadline or {@link #close()} completes it with finish reason ABORT and the partial
     * output; a failed step completes it exceptionally with {@link EngineStepException}.
     *
     * @throws InvalidRequestException when the request can never be served (nothing is queued)
     * @throws IllegalStateException   when the engine is closed
     */
    public CompletableFuture<Completion> generate(GenerateRequest request) {
        return submit(request, d -> { }, e -> { }).future;
    }

    /**
     * Queues a request and returns the stream of its deltas, for one subscriber, with back-pressure:
     * undelivered deltas wait (at most max_tokens of them) until the subscriber requests more. Cancelling the
     * subscription aborts the request.
     *
     * @throws InvalidRequestException when the request can never be served (nothing is queued)
     */
    public TokenStream stream(GenerateRequest request) {
        String id = request.requestId();
        DeltaPublisher publisher = new DeltaPublisher(delivery, () -> cancel(id));
        ActiveRequest r = submit(request, publisher::emit, publisher::fail);
        return new TokenStream(id, publisher, r.future);
    }

    /** Aborts a request by id; returns false when it is not in flight. */
    public boolean cancel(String requestId) {
        if (!inFlight.containsKey(requestId)) {
            return false;
        }
        loop.abort(requestId);
        return true;
    }

    private ActiveRequest submit(GenerateRequest req, java.util.function.Consumer<TokenDelta> sink,
                                 java.util.function.Consumer<Throwable> errorSink) {
        if (closed) {
            throw new IllegalStateException("engine is closed");
        }
        if (loop.lostBackend() != null) {
            throw new IllegalStateException("engine stopped: " + loop.lostBackend().getMessage());
        }
        int[] prompt = prepare.run(() -> RequestValidator.promptIds(req, model.tokenizer(), model.config().vocabSize()));
        int maxTokens = req.sampling().maxTokens();
        RequestValidator.checkLength(prompt.length, maxTokens, maxModelLen, kvCapacityTokens);
        long now = System.nanoTime();
        long deadline = RequestValidator.deadlineNanos(req.deadline(), Instant.now(), now);
        ActiveRequest r = new ActiveRequest(req.requestId(), prompt, req.sampling(), eosIds, model.tokenizer(), now,
                deadline, sink, errorSink, prepare.run(() -> guide(req.sampling())));
        if (inFlight.putIfAbsent(r.id, r) != null) {
            throw new InvalidRequestException("request_id", "request_id " + r.id + " is already in flight");
        }
        r.future.whenComplete((c, e) -> {
            inFlight.remove(r.id, r);
            if (e instanceof CancellationException) {
                loop.abort(r.id);
            }
        });
        loop.submit(r, new SchedulerRequest(r.id, prompt, maxTokens, req.priority(), now));
        return r;
    }

    /** The request's guide, built here on the caller's thread (the first one also builds the vocabulary). */
    private JsonGuide guide(SamplingParams sampling) {
        if (sampling.guidedDecoding() == null) {
            return null;
        }
        int[] terminals = IntStream.concat(Arrays.stream(eosIds), Arrays.stream(sampling.stopTokenIds())).toArray();
        return guides.create(sampling.guidedDecoding(), terminals);
    }

    /** The name that tags this engine's metrics ({@code model}) and names its loop thread. */
    public String name() {
        return name;
    }

    public ModelConfig config() {
        return model.config();
    }

    public Tokenizer tokenizer() {
        return model.tokenizer();
    }

    public LoadedModel model() {
        return model;
    }

    /** Longest prompt + output this engine accepts. */
    public int maxModelLen() {
        return maxModelLen;
    }

    /** Tokens the KV pool holds over all sequences. */
    public int kvCapacityTokens() {
        return kvCapacityTokens;
    }

    /** Requests accepted and not yet finished. */
    public int inFlight() {
        return inFlight.size();
    }

    /** Scheduler statistics as of the engine loop's last iteration. */
    public SchedulerStats stats() {
        return loop.stats();
    }

    /** Whether the engine loop thread is alive. */
    public boolean isRunning() {
        return loopThread.isAlive();
    }

    /**
     * Why the engine stopped serving for good, when its backend was lost (a sticky CUDA error): it must be
     * replaced by a new engine. Empty while it serves, and after an ordinary shutdown.
     */
    public java.util.Optional<String> failure() {
        BackendLostException e = loop.lostBackend();
        return e == null ? java.util.Optional.empty() : java.util.Optional.of(e.getMessage());
    }

    /** {@link System#nanoTime()} of the loop's last iteration: the liveness heartbeat. */
    public long lastHeartbeatNanos() {
        return loop.lastStepNanos();
    }

    /**
     * Stops accepting requests, waits up to {@code drain} for the ones in flight to finish, aborts the rest,
     * and releases the model. Returns true when nothing had to be aborted. Once the model is released, a later call
     * returns true at once.
     */
    public boolean shutdown(Duration drain) {
        closed = true;
        if (released.get()) {
            return true;
        }
        long until = System.nanoTime() + drain.toNanos();
        while (!inFlight.isEmpty() && System.nanoTime() - until < 0) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        boolean drained = inFlight.isEmpty();
        loop.stop();
        metrics.close();
        if (!joinLoop()) {
            // NOTE: a step that ignores interrupts (a hung native call) keeps its thread; its runner and
            // weights stay allocated rather than being freed under a running forward pass.
            LOG.warn("engine loop {} did not stop within {} after an interrupt; leaving its runner allocated",
                    loopThread.getName(), stopTimeout);
            delivery.close();
            prepare.close();
            return false;
        }
        delivery.close();
        prepare.close();
        if (released.compareAndSet(false, true)) {
            try {
                runner.close();
            } finally {
                model.close();
            }
        }
        return drained;
    }

    /** Waits for the loop to stop; interrupts it if a step does not finish within the stop timeout. */
    private boolean joinLoop() {
        try {
            loopThread.join(stopTimeout);
            if (loopThread.isAlive()) {
                loopThread.interrupt();
                loopThread.join(stopTimeout);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !loopThread.isAlive();
    }

    /** Aborts everything in flight and releases the model. */
    @Override
    public void close() {
        if (!loopThread.isAlive() && closed) {
            return;
        }
        shutdown(Duration.ZERO);
    }
}
