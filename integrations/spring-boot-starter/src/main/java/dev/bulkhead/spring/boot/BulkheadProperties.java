package dev.bulkhead.spring.boot;

import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * The "bulkhead.*" settings of an application: one engine (by default the embedded stories260K), or, when
 * "router-config" names a file, a router over the models that file lists.
 *
 * @param model        the engine's model: a Hugging Face directory, a ".gguf", a llama2.c ".bin", or
 *                     empty for the embedded stories260K
 * @param name         the engine's name, which tags its metrics ("model") and names its health entry; empty
 *                     for the model's own name
 * @param device       "auto", "cpu", "cuda", "cuda:N" or "cuda-emulator"
 * @param kvCacheSize  the engine's KV cache, allocated once at start (on the Java heap for the CPU backend); 0 sizes it
 *                     automatically, as {@code EngineOptions.KV_CACHE_AUTO}: room for max-running requests at the full
 *                     context, capped at 3/4 of the heap less what is in use. The default stays a fixed 256MB because
 *                     an application shares its heap with everything else it runs
 * @param threads      forward-pass threads; 0 for half the processors the JVM sees, since an application shares its
 *                     machine (the engine alone would take them all)
 * @param maxModelLen  the longest prompt plus output in tokens; 0 for the model's context, capped at 4096
 * @param maxRunning   the most sequences in one step
 * @param routerConfig a router config file (YAML or JSON, see docs/router-config.md); when set, a "Router"
 *                     bean serves its models instead of one engine, and the engine settings above are not used
 * @param drainTimeout how long shutdown waits for requests in flight before it aborts them
 */
@ConfigurationProperties("bulkhead")
public record BulkheadProperties(
        String model,
        String name,
        @DefaultValue("auto") String device,
        @DefaultValue("256MB") DataSize kvCacheSize,
        @DefaultValue("0") int threads,
        @DefaultValue("0") int maxModelLen,
        @DefaultValue("64") int maxRunning,
        Path routerConfig,
        @DefaultValue("30s") Duration drainTimeout) {

    /**
     * The forward-pass threads to use: {@code threads}, or half the processors when it is 0.
     *
     * @return at least 1
     */
    public int effectiveThreads() {
        return threads > 0 ? threads : Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
    }
}
