package dev.bulkhead.router.worker;

import dev.bulkhead.engine.EngineStepException;
import dev.bulkhead.engine.InvalidRequestException;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.TokenDelta;
import dev.bulkhead.engine.api.TokenStream;
import dev.bulkhead.engine.internal.cuda.Backends;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.model.LoadedModel;
import dev.bulkhead.model.ModelFormatException;
import dev.bulkhead.model.ModelLoader;
import dev.bulkhead.router.Fault;
import dev.bulkhead.router.FaultInjector;
import dev.bulkhead.router.ipc.ErrorKind;
import dev.bulkhead.router.ipc.Frame;
import dev.bulkhead.router.ipc.FrameChannel;
import dev.bulkhead.router.ipc.FrameType;
import dev.bulkhead.router.ipc.Heartbeat;
import dev.bulkhead.router.ipc.Messages;
import dev.bulkhead.router.ipc.ProtocolException;
import dev.bulkhead.router.ipc.WireIn;
import dev.bulkhead.router.ipc.WireOut;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker side of the protocol: one engine, served to one router over one socket. The reader thread decodes
 * frames and hands each request to a virtual thread (validating and tokenizing must not hold up CANCEL and CREDIT
 * frames). Frames out are written whole, under the channel's lock, by whoever produced them: request threads,
 * the engine's delivery threads (deltas) and completion callbacks moved off the engine loop, all virtual threads,
 * which a full socket parks rather than blocks; the engine loop itself never writes. Heartbeats come from their own
 * thread, during loading too.
 */
final class WorkerServer {

    private static final Logger LOG = LoggerFactory.getLogger(WorkerServer.class);
    private static final long CONNECT_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);
    // NOTE: a request's completion is written from here, never from the engine loop that completes it.
    private static final java.util.concurrent.Executor OFF_LOOP =
            task -> Thread.ofVirtual().name("bulkhead-worker-done").start(task);

    /** One request from the router; guarded by itself. */
    private static final class Request {
        final int rid;
        final String requestId;
        final boolean stream;
        long credit;
        Flow.Subscription subscription;
        boolean started;
        boolean cancelled;
        int ends;

        Request(int rid, String requestId, boolean stream) {
            this.rid = rid;
            this.requestId = requestId;
            this.stream = stream;
        }
    }

    private final WorkerArgs args;
    private final FaultInjector faults;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<Integer, Request> requests = new ConcurrentHashMap<>();
    private FrameChannel channel;
    private volatile LlmEngine engine;
    private volatile boolean flooding;

    WorkerServer(WorkerArgs args) {
        this.args = args;
        this.faults = args.faults() == null ? null : FaultInjector.forWorker(args.faults(), args.model());
    }

    int run() {
        ParentWatch.start(args.parentPid(), System.in, () -> {
            LOG.warn("worker of {}: the router (pid {}) is gone; exiting", args.model(), args.parentPid());
            Runtime.getRuntime().halt(0);
        });
        try {
            channel = new FrameChannel(connect());
        } catch (IOException e) {
            LOG.error("worker of {}: cannot connect to the router at {}: {}", args.model(), args.socket(), e.toString());
            return 3;
        }
        send(WireOut.frame(FrameType.HELLO, 16).i32(FrameType.VERSION).i64(ProcessHandle.current().pid()).finish());
        Thread.ofPlatform().daemon().name("bulkhead-worker-heartbeat").start(this::heartbeats);
        try {
            engine = load();
        } catch (Throwable t) {
            boolean permanent = t instanceof ModelFormatException;
            String msg = "model " + args.model() + " did not load: " + (t.getMessage() == null ? t : t.getMessage());
            LOG.error("{}", msg, t);
            send(WireOut.frame(FrameType.LOAD_FAILED, 128).bool(permanent).str(msg).finish());
            return 2;
        }
        LlmEngine e = engine;
        send(WireOut.frame(FrameType.READY, 32).i32(e.maxModelLen()).i32(e.kvCapacityTokens())
                .str(args.device()).finish());
        return serve();
    }

    private SocketChannel connect() throws IOException {
        long until = System.nanoTime() + CONNECT_TIMEOUT_NANOS;
        while (true) {
            try {
                return SocketChannel.open(UnixDomainSocketAddress.of(args.socket()));
            } catch (IOException e) {
                if (System.nanoTime() - until > 0) {
                    throw e;
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    private LlmEngine load() {
        LoadedModel loaded = ModelLoader.load(args.source());
        try {
            ModelRunnerFactory runners = Backends.choose(args.device()).factory();
            if (faults != null) {
                runners = faults.runners(args.model(), runners);
            }
            return new LlmEngine(args.model(), loaded, args.options(), registry, runners);
        } catch (RuntimeException | Error t) {
            loaded.close();
            throw t;
        }
    }

    /** Reads frames until the router closes the connection or says stop; returns the exit status. */
    private int serve() {
        try {
            while (true) {
                while (faults != null && faults.hanging(args.model())) {
                    // NOTE: WORKER_HANG freezes the whole worker: it stops reading, as a stopped process would.
                    Thread.sleep(50);
                }
                Frame f = channel.read();
                if (f == null) {
                    break;
                }
                if (!dispatch(f.type(), f.payload())) {
                    return 0;
                }
            }
            LOG.warn("worker of {}: the router closed the connection; exiting", args.model());
            return 0;
        } catch (ProtocolException e) {
            LOG.error("worker of {}: the router broke the protocol: {}", args.model(), e.getMessage());
            return 4;
        } catch (IOException e) {
            LOG.warn("worker of {}: connection lost ({}); exiting", args.model(), e.toString());
            return 0;
        } catch (InterruptedException e) {
            return 0;
        }
    }

    /** Handles one frame; false after SHUTDOWN. */
    private boolean dispatch(FrameType type, WireIn in) {
        switch (type) {
            case SUBMIT -> {
                int rid = in.i32();
                boolean stream = in.u8() == 1;
                GenerateRequest req;
                try {
                    req = Messages.request(in);
                } catch (InvalidRequestException e) {
                    send(error(rid, ErrorKind.INVALID_REQUEST, e.field(), e.getMessage()));
                    return true;
                }
                Request r = new Request(rid, req.requestId(), stream);
                requests.put(rid, r);
                Thread.ofVirtual().name("bulkhead-worker-submit").start(() -> start(r, req));
            }
            case CANCEL -> {
                Request r = requests.get(in.i32());
                if (r != null) {
                    synchronized (r) {
                        r.cancelled = true;
                        if (r.started) {
                            engine.cancel(r.requestId);
                        }
                    }
                }
            }
            case CREDIT -> credit(requests.get(in.i32()), in.i64());
            case METRICS_REQ -> send(WireOut.frame(FrameType.METRICS, 8192).i32(in.i32()).str(registry.scrape()).finish());
            case FAULT -> fault(in.str(), in.bool());
            case SHUTDOWN -> {
                long drain = in.i64();
                LOG.info("worker of {}: shutting down (drain {} ms)", args.model(), drain);
                engine.shutdown(Duration.ofMillis(drain));
                return false;
            }
            default -> throw new ProtocolException("a router does not send " + type);
        }
        return true;
    }

    private void start(Request r, GenerateRequest req) {
        try {
            CompletableFuture<Completion> done;
            TokenStream ts = null;
            if (r.stream) {
                ts = engine.stream(req);
                done = ts.completion();
            } else {
                done = engine.generate(req);
            }
            // NOTE: ACCEPTED is queued before anything the request produces, so the router sees it first.
            send(WireOut.frame(FrameType.ACCEPTED, 8).i32(r.rid).finish());
            done.whenCompleteAsync((c, e) -> finished(r, c, e), OFF_LOOP);
            if (ts != null) {
                ts.subscribe(subscriber(r));
            }
            synchronized (r) {
                r.started = true;
                if (r.cancelled) {
                    engine.cancel(r.requestId);
                }
            }
        } catch (InvalidRequestException e) {
            requests.remove(r.rid, r);
            send(error(r.rid, ErrorKind.INVALID_REQUEST, e.field(), e.getMessage()));
        } catch (RuntimeException e) {
            requests.remove(r.rid, r);
            send(error(r.rid, ErrorKind.UNAVAILABLE, null, e.getMessage() == null ? e.toString() : e.getMessage()));
        }
    }

    private Flow.Subscriber<TokenDelta> subscriber(Request r) {
        return new Flow.Subscriber<>() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                synchronized (r) {
                    r.subscription = s;
                    if (r.credit > 0) {
                        s.request(r.credit);
                        r.credit = 0;
                    }
                }
            }

            @Override
            public void onNext(TokenDelta d) {
                WireOut out = WireOut.frame(FrameType.DELTA, 48 + d.text().length() * 3).i32(r.rid);
                Messages.delta(out, d, System.nanoTime());
                send(out.finish());
            }

            @Override
            public void onError(Throwable t) {
                ended(r);
            }

            @Override
            public void onComplete() {
                ended(r);
            }
        };
    }

    private void credit(Request r, long n) {
        if (r == null || n <= 0) {
            return;
        }
        synchronized (r) {
            if (r.subscription != null) {
                r.subscription.request(n);
            } else {
                r.credit = r.credit + n < 0 ? Long.MAX_VALUE : r.credit + n;
            }
        }
    }

    private void finished(Request r, Completion c, Throwable e) {
        Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
        if (cause == null) {
            WireOut out = WireOut.frame(FrameType.DONE, 64 + c.text().length() * 3).i32(r.rid);
            Messages.completion(out, c);
            send(out.finish());
        } else if (cause instanceof EngineStepException s && s.getCause() instanceof OutOfMemoryError) {
            send(error(r.rid, ErrorKind.OUT_OF_MEMORY, null, s.getMessage()));
        } else if (cause instanceof EngineStepException s) {
            send(error(r.rid, ErrorKind.ENGINE_STEP, null, s.getMessage()));
        } else {
            send(error(r.rid, ErrorKind.UNAVAILABLE, null, String.valueOf(cause.getMessage())));
        }
        ended(r);
        if (cause != null && r.stream) {
            ended(r);
        }
    }

    /** A request is forgotten once its completion and (for a stream) its last delta went out. */
    private void ended(Request r) {
        synchronized (r) {
            if (++r.ends >= (r.stream ? 2 : 1)) {
                requests.remove(r.rid, r);
            }
        }
    }

    private void fault(String name, boolean on) {
        if (faults == null) {
            LOG.warn("worker of {}: fault {} refused: drills are off", args.model(), name);
            return;
        }
        Fault f;
        try {
            f = Fault.valueOf(name);
        } catch (IllegalArgumentException e) {
            LOG.warn("worker of {}: unknown fault {}", args.model(), name);
            return;
        }
        if (f == Fault.SOCKET_FLOOD) {
            flooding = on;
            if (on) {
                LOG.warn("fault drill: {} fires in {}", f, args.model());
                Thread.ofPlatform().daemon().name("bulkhead-drill-flood").start(this::flood);
            }
        } else if (on) {
            faults.inject(args.model(), f);
        } else {
            faults.clear(args.model(), f);
        }
    }

    /**
     * SOCKET_FLOOD: well-formed deltas of a request the router does not know (as a runaway loop re-sending output
     * would write), 16 KiB each, as fast as the socket takes them; only their volume gives them away.
     */
    private void flood() {
        byte[] junk = new byte[16 << 10];
        java.util.Arrays.fill(junk, (byte) 'x');
        try {
            while (flooding) {
                channel.write(WireOut.frame(FrameType.DELTA, junk.length + 64).i32(-1).i32(7).i32(junk.length)
                        .bytes(junk).i32(0).u8(0xff).bool(false).i64(System.nanoTime()).finish());
            }
        } catch (IOException e) {
            LOG.warn("worker of {}: flood stopped: {}", args.model(), e.toString());
        }
    }

    private void heartbeats() {
        long seq = 0;
        Runtime rt = Runtime.getRuntime();
        while (true) {
            try {
                Thread.sleep(args.heartbeatMillis());
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            if (faults != null && faults.hanging(args.model())) {
                continue;
            }
            LlmEngine e = engine;
            Heartbeat h = e == null
                    ? new Heartbeat(seq++, -1, 0, 0, rt.totalMemory() - rt.freeMemory(), rt.maxMemory(), null)
                    : new Heartbeat(seq++, Math.max(0, now - e.lastHeartbeatNanos()), e.inFlight(),
                            e.stats().kv().numInUse(), rt.totalMemory() - rt.freeMemory(), rt.maxMemory(),
                            e.failure().orElse(null));
            WireOut out = WireOut.frame(FrameType.HEARTBEAT, 64);
            h.write(out);
            send(out.finish());
        }
    }

    private static java.nio.ByteBuffer error(int rid, ErrorKind kind, String field, String message) {
        return WireOut.frame(FrameType.ERROR, 64 + (message == null ? 0 : message.length() * 3)).i32(rid).u8(kind.code())
                .str(field).str(message).finish();
    }

    /** Writes one frame whole; a failed write means the router is gone, and so the worker goes. */
    private void send(java.nio.ByteBuffer frame) {
        try {
            channel.write(frame);
        } catch (IOException e) {
            LOG.warn("worker of {}: the router closed the connection ({}); exiting", args.model(), e.toString());
            Runtime.getRuntime().halt(0);
        }
    }
}
