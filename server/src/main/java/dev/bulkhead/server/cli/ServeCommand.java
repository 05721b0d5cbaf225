package dev.bulkhead.server.cli;

import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.internal.cuda.Backends;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.model.LoadedModel;
import dev.bulkhead.model.ModelLoader;
import dev.bulkhead.model.embedded.EmbeddedModel;
import dev.bulkhead.model.hub.HubCache;
import dev.bulkhead.router.Isolation;
import dev.bulkhead.router.Router;
import dev.bulkhead.router.RouterConfig;
import dev.bulkhead.router.RouterConfigLoader;
import dev.bulkhead.router.WorkerLauncher;
import dev.bulkhead.server.http.ApiKeys;
import dev.bulkhead.server.http.BulkheadServer;
import dev.bulkhead.server.http.EngineBackend;
import dev.bulkhead.server.http.ModelBackend;
import dev.bulkhead.server.http.RouterBackend;
import dev.bulkhead.server.http.ServerConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code bulkhead serve}: the OpenAI-compatible HTTP API over one model ({@code --model}) or over every alias of a
 * router config ({@code --config}), optionally behind API keys.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve one model, or every alias of a router config (--config), over the OpenAI-compatible "
                + "HTTP API (/v1/completions, /v1/chat/completions, /v1/models, /health, /ready, /metrics). "
                + "Listens on 127.0.0.1 unless --host says otherwise; without API keys (--api-key-file or "
                + "the " + ApiKeys.ENV + " environment variable) a non-loopback --host also needs "
                + "--allow-unauthenticated-remote. /health, /ready and /metrics never need a key.")
final class ServeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, paramLabel = "DIR|FILE|ORG/NAME",
            description = "Model to serve: a directory, a file or a pulled ORG/NAME (default: the embedded stories260K).")
    String model;

    @Option(names = "--served-model-name", paramLabel = "NAME",
            description = "Name clients use in the \"model\" field (default: the model's folder or file name).")
    String name;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Router config (YAML or JSON): serve every model and alias in it with fallbacks, breakers and "
                    + "per-model readiness (/ready/MODEL); engine sizes come from the config, so --threads, --context, "
                    + "--kv-cache-mb and --max-running do not apply. Not with --model.")
    Path routerConfig;

    @Option(names = "--isolation", paramLabel = "process|in-process",
            description = "With --config: where a model runs unless the config says (isolation: per model). process "
                    + "(default): a worker JVM per model, supervised over a Unix socket, so a native crash, sticky "
                    + "CUDA error or heap exhaustion takes only that model; in-process: one JVM for all.")
    String isolation;

    @Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "ADDR",
            description = "Address to bind (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--api-key-file", paramLabel = "FILE",
            description = "Bearer keys, one a line: 'KEY' or 'KEY  model1,model2' (an allow list); '#' comments. "
                    + "Default: the " + ApiKeys.ENV + " environment variable (same syntax, entries separated "
                    + "by ';'); with neither, /v1/ is open.")
    Path apiKeyFile;

    @Option(names = "--allow-unauthenticated-remote",
            description = "Serve without API keys on a non-loopback --host (refused otherwise).")
    boolean allowUnauthenticatedRemote;

    @Option(names = {"-p", "--port"}, defaultValue = "8000", paramLabel = "PORT", description = "Port (default: ${DEFAULT-VALUE}; 0 picks one).")
    int port;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "CPU threads (default: all processors).")
    Integer threads;

    @Option(names = "--cpu-gemm", paramLabel = "java|openblas", defaultValue = "${sys:bulkhead.cpu.gemm:-java}",
            description = ModelOptions.CPU_GEMM_HELP)
    String cpuGemm;

    @Option(names = {"-c", "--context"}, defaultValue = "2048", paramLabel = "TOKENS",
            description = "Longest prompt + output per request (default: ${DEFAULT-VALUE}, capped at the model's).")
    int context;

    @Option(names = "--kv-cache-mb", defaultValue = "auto", paramLabel = "MB|auto",
            description = "KV pool size in MB, fixed at start (default: ${DEFAULT-VALUE}: room for --max-running "
                    + "requests at the full --context, capped by memory: on the CPU backend 3/4 of the heap at most, "
                    + "less what is in use; on CUDA 256 MB; the start fails if one full-context request does not fit).")
    String kvCacheMb;

    @Option(names = "--max-running", defaultValue = "64", paramLabel = "N",
            description = "Most requests batched together (default: ${DEFAULT-VALUE}).")
    int maxRunning;

    @Option(names = "--device", defaultValue = "${sys:bulkhead.backend:-cpu}",
            paramLabel = "auto|cpu|cuda[:N]|cuda-emulator",
            description = "Backend (default: ${DEFAULT-VALUE}); the CUDA backend is not verified on a GPU yet. "
                    + "cuda-emulator runs the CUDA backend on a CPU emulator (far slower; tests the CUDA path).")
    String device;

    @Option(names = "--max-body-kb", defaultValue = "1024", paramLabel = "KB",
            description = "Largest request body (default: ${DEFAULT-VALUE}).")
    long maxBodyKb;

    @Mixin
    ConnectionOptions connections;

    @Mixin
    RequestOptions requests;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (routerConfig != null && (model != null || name != null)) {
            throw new ParameterException(spec.commandLine(),
                    "--config serves the models of the router config; drop --model and --served-model-name");
        }
        if (isolation != null && routerConfig == null) {
            throw new ParameterException(spec.commandLine(), "--isolation applies to --config only");
        }
        ApiKeys keys = apiKeyFile != null ? ApiKeys.load(apiKeyFile) : ApiKeys.fromEnv(System.getenv(ApiKeys.ENV));
        ServerConfig config = new ServerConfig(host, port, maxBodyKb << 10, false, keys, allowUnauthenticatedRemote)
                .withConnections(connections.limits())
                .withBrowserAccess(requests.browserAccess()).withRequestCpu(requests.cpuPool());
        // NOTE: checked before any model loads, so a refused start fails in milliseconds, not after loading.
        BulkheadServer.checkExposure(config);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ModelBackend backend;
        if (routerConfig != null) {
            backend = new RouterBackend(startRouter(registry));
        } else {
            backend = engineBackend(name != null ? name : model == null ? EmbeddedModel.NAME : null, registry);
        }
        String served = String.join(", ", backend.models());
        BulkheadServer server = BulkheadServer.start(config, backend, registry);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.stop();
            stopped.countDown();
        }));
        String shownHost = InetAddress.getByName(host).isAnyLocalAddress() ? "127.0.0.1" : host;
        String base = "http://" + shownHost + ":" + server.port();
        String example = backend.models().getFirst();
        out.println("Bulkhead is serving " + served + " on " + base + " (Ctrl-C stops it)"
                + (keys.enabled() ? "; " + keys.size() + " API keys accepted" : ""));
        out.println("try: curl " + base + "/v1/completions -H 'Content-Type: application/json'"
                + (keys.enabled() ? " -H 'Authorization: Bearer YOUR_KEY'" : "")
                + " -d '{\"model\": \"" + example + "\", \"prompt\": \"Once upon a time\", \"max_tokens\": 48}'");
        out.flush();
        stopped.await();
        return 0;
    }

    /**
     * The router over {@code --config}: models without an {@code isolation} of their own get {@code --isolation}
     * (process by default). Workers run this jar's {@code worker} command on {@code --device}; this process picks a
     * backend (and so touches CUDA) only when a model runs in it.
     */
    private Router startRouter(PrometheusMeterRegistry registry) {
        RouterConfig config = RouterConfigLoader.load(routerConfig)
                .withDefaultIsolation(isolation == null ? Isolation.PROCESS : Isolation.of(isolation));
        boolean inProcess = config.models().stream().anyMatch(m -> m.isolation() == Isolation.IN_PROCESS);
        ModelRunnerFactory runners = inProcess ? Backends.choose(device).factory() : ModelRunnerFactory.CPU;
        WorkerLauncher launcher = WorkerLauncher.sameJvm(BulkheadCli.class.getName(), java.util.List.of("worker"),
                device);
        // NOTE: /metrics merges each worker's own Prometheus text (percentiles included); bridging the same meters
        // into this registry as well would export every worker series twice.
        return Router.builder().config(config).runners(runners).meterRegistry(registry).workerLauncher(launcher)
                .workerEngineMeters(false).start();
    }

    /**
     * The KV budget {@code --kv-cache-mb} asks for: {@link EngineOptions#KV_CACHE_AUTO} for {@code auto}, else a
     * whole number of MB of at least 1.
     */
    static long kvCacheBytes(String mb) {
        String v = mb == null ? "auto" : mb.strip();
        if (v.equalsIgnoreCase("auto")) {
            return EngineOptions.KV_CACHE_AUTO;
        }
        try {
            long n = Long.parseLong(v);
            if (n >= 1 && n <= Long.MAX_VALUE >> 20) {
                return n << 20;
            }
        } catch (NumberFormatException e) {
            // NOTE: reported below, with what was given
        }
        throw new IllegalArgumentException("--kv-cache-mb must be auto or a whole number of MB >= 1, got '" + mb + "'");
    }

    /** One engine over {@code --model}, named {@code served} (or after its file when null). */
    private ModelBackend engineBackend(String served, PrometheusMeterRegistry registry) {
        long kvBytes = kvCacheBytes(kvCacheMb); // NOTE: before the load, so a typo fails in milliseconds
        ModelReference ref = ModelReference.resolve(model, HubCache.defaultCache());
        LoadedModel loaded = ModelLoader.load(ref.spec());
        ModelOptions.prefetch(loaded, spec.commandLine().getErr());
        if (served == null) {
            served = ref.spec() != null && !ref.spec().equals(model) ? ref.name()
                    : loaded.origin().getFileName().toString();
        }
        EngineOptions options = EngineOptions.defaults()
                .withThreads(threads == null ? Runtime.getRuntime().availableProcessors() : threads)
                .withMaxModelLen(Math.min(context, loaded.config().maxPositionEmbeddings()))
                .withKvCacheBytes(kvBytes)
                .withMaxRunning(maxRunning)
                .withCpuGemm(EngineOptions.CpuGemm.parse(cpuGemm));
        Backends.Choice backend = Backends.choose(device);
        long heap = Runtime.getRuntime().maxMemory();
        // NOTE: the CPU backend's KV pool is one heap array set; failing here beats an OutOfMemoryError mid-start.
        // An automatic size is capped by the engine itself, from the same heap.
        if (backend.name().equals("cpu") && kvBytes > heap - (heap >> 2)) {
            loaded.close();
            long mb = kvBytes >> 20;
            throw new IllegalArgumentException("--kv-cache-mb " + mb + " does not fit in this "
                    + "JVM's heap (" + (heap >> 20) + " MB at most, and the CPU backend keeps the KV cache on it): "
                    + "lower --kv-cache-mb (or leave it auto) or raise the heap, e.g. BULKHEAD_JAVA_OPTS=-Xmx"
                    + (2 * mb + 512) + "m");
        }
        LlmEngine engine;
        try {
            engine = new LlmEngine(served, loaded, options, registry, backend.factory());
        } catch (RuntimeException e) {
            loaded.close();
            throw e;
        }
        return new EngineBackend(served, engine);
    }
}
