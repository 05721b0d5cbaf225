package dev.bulkhead.router;

import dev.bulkhead.engine.EngineStepException;
import dev.bulkhead.engine.InvalidRequestException;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.TokenDelta;
import dev.bulkhead.engine.api.TokenStream;
import dev.bulkhead.engine.internal.DeltaPublisher;
import dev.bulkhead.model.LoadedModel;
import dev.bulkhead.router.ipc.ErrorKind;
import dev.bulkhead.router.ipc.Frame;
import dev.bulkhead.router.ipc.FrameChannel;
import dev.bulkhead.router.ipc.FrameSender;
import dev.bulkhead.router.ipc.FrameType;
import dev.bulkhead.router.ipc.Heartbeat;
import dev.bulkhead.router.ipc.Messages;
import dev.bulkhead.router.ipc.MeterSnapshot;
import dev.bulkhead.router.ipc.ProtocolException;
import dev.bulkhead.router.ipc.WireIn;
import dev.bulkhead.router.ipc.WireOut;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The router's side of one worker process ({@link Isolation#PROCESS}): the engine contract of {@link SlotEngine}
 * spoken over the socket (see {@code docs/process-isolation.md}). One reader thread takes every frame the worker
 * sends, one {@link FrameSender} thread writes, and the watchdog asks {@link #isRunning()}: false once the process
 * exited or crashed, its connection broke, it broke the protocol, went silent, stopped reading or flooded its
 * socket. Whatever ended it, the requests it held fail at once with a {@link WorkerLostException} that says so.
 */
final class WorkerEngine implements SlotEngine, WorkerMeterCache.Worker {

    private static final Logger LOG = LoggerFactory.getLogger(WorkerEngine.class);
    private static final long FLOOD_WINDOW_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    // NOTE: a worker validates and queues a request in microseconds; tokenizing a huge prompt may take longer.
    private static final long MAX_ACCEPT_WAIT_NANOS = TimeUnit.SECONDS.toNanos(30);
    private static final Executor DELIVERY = task -> Thread.ofVirtual().name("bulkhead-worker-delivery").start(task);

    /** One request in flight on the worker. */
    private static final class Call {
        final int rid;
        final String requestId;
        final CompletableFuture<Void> accepted = new CompletableFuture<>();
        final CompletableFuture<Completion> future = new CompletableFuture<>();
        final DeltaPublisher deltas;
        volatile boolean done;
        volatile boolean lastDelta;

        Call(int rid, String requestId, DeltaPublisher deltas) {
            this.rid = rid;
            this.requestId = requestId;
            this.deltas = deltas;
        }

        void fail(Throwable t) {
            accepted.completeExceptionally(t);
            future.completeExceptionally(t);
            if (deltas != null) {
                deltas.fail(t);
            }
        }
    }

    private final String model;
    private final LoadedModel catalog;
    private final WorkerProcess process;
    private final FrameChannel channel;
    private final FrameSender sender;
    private final RouterMetrics metrics;
    private final long heartbeatTimeoutNanos;
    private final long writeStallNanos;
    private final long floodBytesPerWindow;
    private final long startedNanos = System.nanoTime();
    private final Map<Integer, Call> calls = new ConcurrentHashMap<>();
    private final Map<String, Integer> rids = new ConcurrentHashMap<>();
    private final PendingReplies<String> scrapes = new PendingReplies<>();
    private final PendingReplies<MeterSnapshot> stats = new PendingReplies<>();
    private final AtomicInteger nextRid = new AtomicInteger();
    private final AtomicBoolean losing = new AtomicBoolean();
    private final CompletableFuture<Void> ready = new CompletableFuture<>();
    private volatile Heartbeat heartbeat;
    private volatile long heartbeatAtNanos = System.nanoTime();
    private volatile String lost;
    private volatile String stopping;
    private long windowStartNanos;
    private long windowBytes;

    private WorkerEngine(ModelSpec spec, LoadedModel catalog, WorkerProcess.Started started, RouterMetrics metrics) {
        this.model = spec.name();
        this.catalog = catalog;
        this.process = started.process();
        this.channel = new FrameChannel(started.channel());
        this.metrics = metrics;
        this.heartbeatTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(spec.health().livenessTimeoutMillis());
        this.writeStallNanos = TimeUnit.MILLISECONDS.toNanos(spec.worker().writeStallMillis());
        this.floodBytesPerWindow = spec.worker().floodBytesPerSecond()
                / (TimeUnit.SECONDS.toNanos(1) / FLOOD_WINDOW_NANOS);
        this.sender = new FrameSender(channel, "bulkhead-worker-send-" + model,
                e -> lose("connection failed: " + e.getMessage(), "connection", true));
        Thread.ofPlatform().daemon().name("bulkhead-worker-read-" + model).start(this::read);
        process.onExit().thenRunAsync(() -> lose("exited", "exited", true), DELIVERY);
    }

    /**
     * Spawns a worker of {@code spec} and waits until its engine serves.
     *
     * @throws ModelLoadException it failed to start or to load (permanent when the model itself is bad)
     */
    static WorkerEngine start(ModelSpec spec, WorkerLauncher launcher, FaultSpec faults, WorkerDirectory dir, String id,
                              long heapBytes, LoadedModel catalog, RouterMetrics metrics) throws InterruptedException {
        WorkerProcess.Started started;
        try {
            started = WorkerProcess.start(spec, launcher, faults, dir, id, heapBytes);
        } catch (IOException e) {
            throw new ModelLoadException(spec.name(), "cannot start a worker of " + spec.name() + ": " + e, false);
        }
        WorkerEngine w = new WorkerEngine(spec, catalog, started, metrics);
        try {
            w.ready.get(spec.worker().startTimeoutMillis(), TimeUnit.MILLISECONDS);
            LOG.info("worker of {} serves (pid {}, started in {} ms)", spec.name(), w.pid(),
                    (System.nanoTime() - w.startedNanos) / 1_000_000);
            return w;
        } catch (ExecutionException e) {
            w.shutdown(Duration.ZERO);
            throw e.getCause() instanceof ModelLoadException m ? m
                    : new ModelLoadException(spec.name(), e.getCause().getMessage(), false);
        } catch (TimeoutException e) {
            w.lose("did not load within " + spec.worker().startTimeoutMillis() + " ms", "hung", false);
            throw new ModelLoadException(spec.name(), "worker of " + spec.name() + " did not load within "
                    + spec.worker().startTimeoutMillis() + " ms", false);
        } catch (InterruptedException e) {
            w.shutdown(Duration.ZERO);
            throw e;
        }
    }

    long pid() {
        return process.pid();
    }

    /** "worker of MODEL (pid N)": how every message about this worker starts. */
    private String workerName() {
        return "worker of " + model + " (pid " + pid() + ")";
    }

    // ---- requests

    @Override
    public CompletableFuture<Completion> generate(GenerateRequest request) {
        return submit(request, false).future;
    }

    @Override
    public TokenStream stream(GenerateRequest request) {
        Call c = submit(request, true);
        Flow.Publisher<TokenDelta> crediting = s -> c.deltas.subscribe(new Flow.Subscriber<TokenDelta>() {
            @Override
            public void onSubscribe(Flow.Subscription sub) {
                s.onSubscribe(new Flow.Subscription() {
                    @Override
                    public void request(long n) {
                        if (n > 0) {
                            sender.send(WireOut.frame(FrameType.CREDIT, 12).i32(c.rid).i64(n).finish());
                        }
                        sub.request(n);
                    }

                    @Override
                    public void cancel() {
                        sub.cancel();
                    }
                });
            }

            @Override
            public void onNext(TokenDelta item) {
                s.onNext(item);
            }

            @Override
            public void onError(Throwable t) {
                s.onError(t);
            }

            @Override
            public void onComplete() {
                s.onComplete();
            }
        });
        return new TokenStream(request.requestId(), crediting, c.future);
    }

    /**
     * Sends SUBMIT and waits for the worker to accept it, so invalid input is thrown here as in-process (a 400, no
     * breaker call, no fallback) rather than failing a future later.
     */
    private Call submit(GenerateRequest r, boolean stream) {
        String problem = problem(System.nanoTime());
        if (problem != null) {
            throw new WorkerLostException(problem);
        }
        int rid = nextRid.incrementAndGet();
        Call c = new Call(rid, r.requestId(), stream ? new DeltaPublisher(DELIVERY, () -> cancelRid(rid)) : null);
        if (rids.putIfAbsent(r.requestId(), rid) != null) {
            throw new InvalidRequestException("request_id", "request_id " + r.requestId() + " is already in flight");
        }
        calls.put(rid, c);
        WireOut out = WireOut.frame(FrameType.SUBMIT, 160).i32(rid).u8(stream ? 1 : 0);
        Messages.request(out, r);
        sender.send(out.finish());
        long wait = MAX_ACCEPT_WAIT_NANOS;
        if (r.deadline() != null) {
            wait = Math.clamp(Duration.between(Instant.now(), r.deadline()).toNanos()
                    + TimeUnit.MILLISECONDS.toNanos(100), TimeUnit.MILLISECONDS.toNanos(100), MAX_ACCEPT_WAIT_NANOS);
        }
        try {
            c.accepted.get(wait, TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            forget(c);
            throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            forget(c);
            cancelRid(rid);
            throw new WorkerLostException(workerName() + " did not accept a request within "
                    + TimeUnit.NANOSECONDS.toMillis(wait) + " ms");
        } catch (InterruptedException e) {
            forget(c);
            cancelRid(rid);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the worker of " + model + " took a request");
        }
        c.future.whenComplete((x, e) -> {
            if (c.future.isCancelled()) {
                cancelRid(rid);
                forget(c);
            }
        });
        return c;
    }

    private void forget(Call c) {
        calls.remove(c.rid, c);
        rids.remove(c.requestId, c.rid);
    }

    private void cancelRid(int rid) {
        sender.send(WireOut.frame(FrameType.CANCEL, 8).i32(rid).finish());
    }

    @Override
    public boolean cancel(String requestId) {
        Integer rid = rids.get(requestId);
        if (rid == null) {
            return false;
        }
        cancelRid(rid);
        return true;
    }

    /** Sends a drill fault to the worker; false when it is not serving now. */
    boolean sendFault(Fault fault, boolean on) {
        if (problem(System.nanoTime()) != null) {
            return false;
        }
        sender.send(WireOut.frame(FrameType.FAULT, 32).str(fault.name()).bool(on).finish());
        return true;
    }

    /** The worker's metrics in Prometheus text; fails after {@code timeoutMillis} or when the worker is gone. */
    CompletableFuture<String> scrape(long timeoutMillis) {
        return ask(scrapes, FrameType.METRICS_REQ, timeoutMillis);
    }

    /** The worker's engine meters now; fails after {@code timeoutMillis} or when the worker is gone. */
    @Override
    public CompletableFuture<MeterSnapshot> meters(long timeoutMillis) {
        return ask(stats, FrameType.STATS_REQ, timeoutMillis);
    }

    private <T> CompletableFuture<T> ask(PendingReplies<T> replies, FrameType question, long timeoutMillis) {
        String problem = problem(System.nanoTime());
        if (problem != null) {
            return CompletableFuture.failedFuture(new WorkerLostException(problem));
        }
        return replies.ask(seq -> sender.send(WireOut.frame(question, 8).i32(seq).finish()), timeoutMillis);
    }

    // ---- watching

    /** Why this worker cannot serve now, or null while it can. */
    private String problem(long now) {
        String l = lost;
        if (l != null) {
            return l;
        }
        if (!process.isAlive()) {
            // NOTE: named as lose() names it (signal, crash or heap): the watchdog can see the exit before the
            // process's onExit callback has run lose(), and its restart reason is what a stream cut short reads.
            return workerName() + " " + process.describeExit();
        }
        Heartbeat h = heartbeat;
        if (h != null && h.failure() != null) {
            return workerName() + ": engine stopped: " + h.failure();
        }
        long silent = now - heartbeatAtNanos;
        if (ready.isDone() && silent > heartbeatTimeoutNanos) {
            return workerName() + " sent no heartbeat for " + silent / 1_000_000 + " ms";
        }
        long stalled = sender.stalledNanos(now);
        if (stalled > writeStallNanos) {
            return workerName() + " stopped reading its socket: a frame has waited "
                    + stalled / 1_000_000 + " ms";
        }
        return null;
    }

    @Override
    public boolean isRunning() {
        return problem(System.nanoTime()) == null;
    }

    @Override
    public Optional<String> failure() {
        return Optional.ofNullable(problem(System.nanoTime()));
    }

    @Override
    public long lastHeartbeatNanos() {
        Heartbeat h = heartbeat;
        long at = heartbeatAtNanos;
        return h == null || h.loopAgeNanos() < 0 ? at : at - h.loopAgeNanos();
    }

    @Override
    public int inFlight() {
        Heartbeat h = heartbeat;
        return h == null ? 0 : h.inFlight();
    }

    @Override
    public int kvBlocksInUse() {
        Heartbeat h = heartbeat;
        return h == null ? 0 : h.kvBlocksInUse();
    }

    @Override
    public int bosId() {
        return Math.max(0, catalog.tokenizer().bosId());
    }

    @Override
    public LoadedModel model() {
        return catalog;
    }

    @Override
    public WorkerEngine worker() {
        return this;
    }

    /** Its pid, resident set and heap as of now. */
    WorkerStatus status() {
        Heartbeat h = heartbeat;
        return new WorkerStatus(pid(), process.rssBytes(), h == null ? -1 : h.heapUsedBytes(),
                h == null ? -1 : h.heapMaxBytes());
    }

    /**
     * Ends the worker: a healthy one is asked to drain for {@code drain} and exit; one that is not (or does not
     * exit in time) gets SIGKILL. Returns true when nothing it held had to be failed.
     */
    @Override
    public boolean shutdown(Duration drain) {
        String problem = problem(System.nanoTime());
        stopping = problem == null ? "was stopped by the router" : problem;
        if (problem == null) {
            sender.send(WireOut.frame(FrameType.SHUTDOWN, 12).i64(drain.toMillis()).finish());
            process.awaitExit(drain.toMillis() + 1_000);
        }
        boolean idle = calls.isEmpty();
        process.kill();
        process.awaitExit(2_000);
        lose(stopping, "stopped", false);
        return idle;
    }

    /**
     * Ends this worker once, for {@code why}: kills the process, fails every request it held and every waiter.
     * With {@code describe} the process's own end (signal, crash, heap) is waited for and named instead.
     */
    private void lose(String why, String cause, boolean describe) {
        if (!losing.compareAndSet(false, true)) {
            return;
        }
        String stop = stopping;
        String how = stop != null ? stop : describe ? process.describeExit() : why;
        process.kill();
        String message = stop != null ? stop : workerName() + " " + how;
        lost = message;
        if (stop == null) {
            LOG.warn("{}", message);
        }
        metrics.workerExit(model, stop != null ? "stopped" : causeOf(how, cause));
        int held = calls.size();
        WorkerLostException e = new WorkerLostException(message + (held == 0 ? ""
                : "; it held " + held + (held == 1 ? " request" : " requests")));
        ready.completeExceptionally(new ModelLoadException(model, message, false));
        for (Call c : List.copyOf(calls.values())) {
            c.fail(e);
        }
        calls.clear();
        rids.clear();
        scrapes.failAll(e);
        stats.failAll(e);
        sender.abort();
        channel.close();
    }

    private static String causeOf(String how, String fallback) {
        if (how.startsWith("killed by ")) {
            return how.substring(10, how.indexOf(' ', 10)).toLowerCase(java.util.Locale.ROOT);
        }
        if (how.startsWith("crashed in native code")) {
            return "native_crash";
        }
        if (how.startsWith("ran out of Java heap")) {
            return "heap_exhausted";
        }
        return fallback;
    }

    // ---- reading

    private void read() {
        try {
            Frame hello = channel.read();
            if (hello == null || hello.type() != FrameType.HELLO) {
                throw new ProtocolException("first frame is " + (hello == null ? "end of stream" : hello.type())
                        + ", not HELLO");
            }
            int version = hello.payload().i32();
            long pid = hello.payload().i64();
            if (version != FrameType.VERSION || pid != process.pid()) {
                throw new ProtocolException("HELLO of protocol v" + version + " from pid " + pid + ", expected v"
                        + FrameType.VERSION + " from pid " + process.pid());
            }
            windowStartNanos = System.nanoTime();
            for (Frame f; (f = channel.read()) != null; ) {
                account(f.bytes());
                dispatch(f.type(), f.payload());
            }
            lose("closed its connection", "exited", true);
        } catch (ProtocolException e) {
            lose(e.getMessage().startsWith("floods") ? e.getMessage() : "broke the protocol: " + e.getMessage(),
                    e.getMessage().startsWith("floods") ? "flood" : "protocol", false);
        } catch (IOException e) {
            lose("connection failed: " + e.getMessage(), "exited", true);
        } catch (RuntimeException e) {
            LOG.error("reading from the worker of {} failed", model, e);
            lose("could not be read: " + e, "protocol", false);
        }
    }

    /** Counts inbound bytes; past the flood limit in one window the worker is cut off. */
    private void account(int bytes) {
        long now = System.nanoTime();
        if (now - windowStartNanos > FLOOD_WINDOW_NANOS) {
            windowStartNanos = now;
            windowBytes = 0;
        }
        windowBytes += bytes;
        if (windowBytes > floodBytesPerWindow) {
            throw new ProtocolException("floods its socket: more than " + (floodBytesPerWindow >> 20) + " MiB in "
                    + TimeUnit.NANOSECONDS.toMillis(FLOOD_WINDOW_NANOS) + " ms");
        }
    }

    private void dispatch(FrameType type, WireIn in) {
        switch (type) {
            case READY -> {
                in.i32();
                in.i32();
                LOG.debug("worker of {} ready on {}", model, in.str());
                heartbeatAtNanos = System.nanoTime();
                ready.complete(null);
            }
            case LOAD_FAILED -> {
                boolean permanent = in.bool();
                ready.completeExceptionally(new ModelLoadException(model, in.str(), permanent));
            }
            case HEARTBEAT -> {
                heartbeat = Heartbeat.read(in);
                heartbeatAtNanos = System.nanoTime();
            }
            case ACCEPTED -> {
                Call c = calls.get(in.i32());
                if (c != null) {
                    c.accepted.complete(null);
                }
            }
            case DELTA -> delta(in);
            case DONE -> {
                Call c = calls.get(in.i32());
                Completion done = Messages.completion(in);
                if (c != null) {
                    c.done = true;
                    c.future.complete(done);
                    removeIfEnded(c);
                }
            }
            case ERROR -> {
                int rid = in.i32();
                RuntimeException e = error(ErrorKind.of(in.u8()), in.str(), in.str());
                Call c = calls.remove(rid);
                if (c != null) {
                    rids.remove(c.requestId, rid);
                    c.fail(e);
                }
            }
            case METRICS -> scrapes.answer(in.i32(), in.str());
            case STATS -> stats.answer(in.i32(), MeterSnapshot.read(in));
            default -> throw new ProtocolException("a worker does not send " + type);
        }
    }

    private void delta(WireIn in) {
        Call c = calls.get(in.i32());
        if (c == null || c.deltas == null) {
            // NOTE: a delta of a request cancelled a moment ago; its worker has not seen the CANCEL yet.
            return;
        }
        TokenDelta d = Messages.delta(in, c.requestId);
        metrics.ipcLatency(model, System.nanoTime() - in.i64());
        c.deltas.emit(d);
        if (d.isLast()) {
            c.lastDelta = true;
            removeIfEnded(c);
        }
    }

    private void removeIfEnded(Call c) {
        if (c.done && (c.deltas == null || c.lastDelta)) {
            forget(c);
        }
    }

    private RuntimeException error(ErrorKind kind, String field, String message) {
        return switch (kind) {
            case INVALID_REQUEST -> new InvalidRequestException(field, message);
            case ENGINE_STEP -> new EngineStepException(message, new IllegalStateException(message));
            case OUT_OF_MEMORY -> new EngineStepException(message, new OutOfMemoryError(message));
            case UNAVAILABLE -> new IllegalStateException(message);
        };
    }
}
