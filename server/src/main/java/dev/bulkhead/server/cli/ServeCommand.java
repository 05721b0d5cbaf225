package dev.bulkhead.server.cli;

import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.cuda.Backends;
import dev.bulkhead.model.LoadedModel;
import dev.bulkhead.model.ModelLoader;
import dev.bulkhead.model.embedded.EmbeddedModel;
import dev.bulkhead.server.http.BulkheadServer;
import dev.bulkhead.server.http.EngineBackend;
import dev.bulkhead.server.http.ServerConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code bulkhead serve}: the OpenAI-compatible HTTP API over one model. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve one model over the OpenAI-compatible HTTP API (/v1/completions, /v1/chat/completions,",
                "/v1/models, /health, /ready, /metrics). Listens on 127.0.0.1 unless --host says otherwise."})
final class ServeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, paramLabel = "DIR|FILE",
            description = "Model to serve (default: the embedded stories260K).")
    String model;

    @Option(names = "--served-model-name", paramLabel = "NAME",
            description = "Name clients use in the \"model\" field (default: the model's folder or file name).")
    String name;

    @Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "ADDR",
            description = "Address to bind (default: ${DEFAULT-VALUE}). NOTE: there is no authentication yet.")
    String host;

    @Option(names = {"-p", "--port"}, defaultValue = "8000", paramLabel = "PORT", description = "Port (default: ${DEFAULT-VALUE}; 0 picks one).")
    int port;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "CPU threads (default: all processors).")
    Integer threads;

    @Option(names = {"-c", "--context"}, defaultValue = "2048", paramLabel = "TOKENS",
            description = "Longest prompt + output per request (default: ${DEFAULT-VALUE}, capped at the model's).")
    int context;

    @Option(names = "--kv-cache-mb", defaultValue = "256", paramLabel = "MB",
            description = "KV pool size, fixed at start (default: ${DEFAULT-VALUE}).")
    long kvCacheMb;

    @Option(names = "--max-running", defaultValue = "64", paramLabel = "N",
            description = "Most requests batched together (default: ${DEFAULT-VALUE}).")
    int maxRunning;

    @Option(names = "--device", defaultValue = "${sys:bulkhead.backend:-cpu}", paramLabel = "auto|cpu|cuda[:N]",
            description = "Backend (default: ${DEFAULT-VALUE}); the CUDA backend is not verified on a GPU yet.")
    String device;

    @Option(names = "--max-body-kb", defaultValue = "1024", paramLabel = "KB",
            description = "Largest request body (default: ${DEFAULT-VALUE}).")
    long maxBodyKb;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        LoadedModel loaded = ModelLoader.load(model);
        String served = name != null ? name : model == null ? EmbeddedModel.NAME : loaded.origin().getFileName().toString();
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        EngineOptions options = EngineOptions.defaults()
                .withThreads(threads == null ? Runtime.getRuntime().availableProcessors() : threads)
                .withMaxModelLen(Math.min(context, loaded.config().maxPositionEmbeddings()))
                .withKvCacheBytes(kvCacheMb << 20)
                .withMaxRunning(maxRunning);
        LlmEngine engine;
        try {
            engine = new LlmEngine(served, loaded, options, registry, Backends.choose(device).factory());
        } catch (RuntimeException e) {
            loaded.close();
            throw e;
        }
        BulkheadServer server = BulkheadServer.start(new ServerConfig(host, port, maxBodyKb << 10, false),
                new EngineBackend(served, engine), registry);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.stop();
            stopped.countDown();
        }));
        String shownHost = InetAddress.getByName(host).isAnyLocalAddress() ? "127.0.0.1" : host;
        String base = "http://" + shownHost + ":" + server.port();
        out.println("Bulkhead is serving " + served + " on " + base + " (Ctrl-C stops it)");
        out.println("try: curl " + base + "/v1/completions -H 'Content-Type: application/json' -d '{\"model\": \""
                + served + "\", \"prompt\": \"Once upon a time\", \"max_tokens\": 48}'");
        out.flush();
        stopped.await();
        return 0;
    }
}
