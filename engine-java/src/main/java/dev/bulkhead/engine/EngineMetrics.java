package dev.bulkhead.engine;

import dev.bulkhead.scheduler.FinishReason;
import dev.bulkhead.scheduler.SchedulerStats;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One model's engine metrics in Micrometer, named after vLLM's where there is one
 * ({@code bulkhead.requests.running} ~ {@code vllm:num_requests_running}, {@code bulkhead.kv_cache.usage} ~
 * {@code vllm:gpu_cache_usage_perc}, TTFT and TPOT timers), all tagged with the model.
 */
final class EngineMetrics {

    private final Timer ttft;
    private final Timer tpot;
    private final Timer stepTime;
    private final Timer hostTime;
    private final Timer exposedHostTime;
    private final DistributionSummary stepTokens;
    private final Counter generatedTokens;
    private final Counter deadlines;
    private final Counter sampledOnDevice;
    private final Counter sampledOnHost;
    private final Map<FinishReason, Counter> finished = new EnumMap<>(FinishReason.class);
    private final MeterRegistry registry;
    private final Tags tags;
    private final String model;

    EngineMetrics(MeterRegistry registry, String model, Supplier<SchedulerStats> stats) {
        this.registry = registry;
        this.tags = Tags.of("model", model);
        this.model = model;
        Gauge.builder("bulkhead.requests.running", () -> stats.get().numRunning()).tags(tags)
                .description("Requests in the running batch").register(registry);
        Gauge.builder("bulkhead.requests.waiting", () -> stats.get().numWaiting()).tags(tags)
                .description("Requests queued for admission").register(registry);
        Gauge.builder("bulkhead.kv_cache.usage", () -> stats.get().kvUsage()).tags(tags)
                .description("Fraction of KV blocks in use (0..1)").register(registry);
        Gauge.builder("bulkhead.prefix_cache.hit_rate", () -> stats.get().prefixCacheHitRate()).tags(tags)
                .description("Prompt tokens served from cached blocks / prompt tokens looked up").register(registry);
        FunctionCounter.builder("bulkhead.preemptions", stats, s -> s.get().numPreemptions()).tags(tags)
                .description("Requests preempted (recomputed) for lack of KV blocks").register(registry);
        // NOTE: the names vLLM exports and that the Gateway API Inference Extension's endpoint picker reads by
        // default (queue depth and KV usage), so a Bulkhead pod can sit behind llm-d-style gateways unchanged.
        Tags vllmTags = Tags.of("model_name", model);
        Gauge.builder("vllm:num_requests_running", () -> stats.get().numRunning()).tags(vllmTags).register(registry);
        Gauge.builder("vllm:num_requests_waiting", () -> stats.get().numWaiting()).tags(vllmTags).register(registry);
        Gauge.builder("vllm:kv_cache_usage_perc", () -> stats.get().kvUsage()).tags(vllmTags).register(registry);
        Gauge.builder("vllm:gpu_cache_usage_perc", () -> stats.get().kvUsage()).tags(vllmTags).register(registry);
        ttft = Timer.builder("bulkhead.time_to_first_token").tags(tags).publishPercentiles(0.5, 0.9, 0.99)
                .register(registry);
        tpot = Timer.builder("bulkhead.time_per_output_token").tags(tags).publishPercentiles(0.5, 0.9, 0.99)
                .register(registry);
        stepTime = Timer.builder("bulkhead.step.duration").tags(tags).register(registry);
        hostTime = Timer.builder("bulkhead.step.host_time").tags(tags).publishPercentiles(0.5, 0.9)
                .description("Engine loop time per step spent on its own work (scheduling, inputs, launches, sampling"
                        + " bookkeeping, detokenizing, streaming), not waiting for the runner").register(registry);
        exposedHostTime = Timer.builder("bulkhead.step.host_time.exposed").tags(tags).publishPercentiles(0.5, 0.9)
                .description("Of bulkhead.step.host_time, the part with no launched step left on the device (what"
                        + " asynchronous scheduling hides)").register(registry);
        stepTokens = DistributionSummary.builder("bulkhead.step.tokens").tags(tags).register(registry);
        generatedTokens = Counter.builder("bulkhead.generation_tokens").tags(tags).register(registry);
        deadlines = Counter.builder("bulkhead.requests.deadline_expired").tags(tags).register(registry);
        sampledOnDevice = Counter.builder("bulkhead.sampling.rows").tags(tags).tag("where", "device")
                .description("Logit rows sampled by the runner on its device (only the id came back)").register(registry);
        sampledOnHost = Counter.builder("bulkhead.sampling.rows").tags(tags).tag("where", "host")
                .description("Logit rows sampled on the host from logits the runner returned").register(registry);
        for (FinishReason r : FinishReason.values()) {
            finished.put(r, Counter.builder("bulkhead.requests.finished").tags(tags)
                    .tag("finish_reason", r.name().toLowerCase(java.util.Locale.ROOT)).register(registry));
        }
    }

    void tokenProduced(ActiveRequest r) {
        generatedTokens.increment();
        if (r.produced() == 1) {
            ttft.record(r.timeToFirstTokenNanos(), TimeUnit.NANOSECONDS);
        } else {
            tpot.record(r.lastGapNanos(), TimeUnit.NANOSECONDS);
        }
    }

    /** One logit row sampled, on the runner's device or on the host. */
    void sampled(boolean onDevice) {
        (onDevice ? sampledOnDevice : sampledOnHost).increment();
    }

    void finished(FinishReason reason) {
        finished.get(reason).increment();
    }

    void deadlineExpired() {
        deadlines.increment();
    }

    /**
     * Removes this engine's meters from the registry. NOTE: the gauges hold the engine loop (and through it
     * the KV pool); a restarted engine sharing a registry would otherwise keep its predecessor alive.
     */
    void close() {
        for (io.micrometer.core.instrument.Meter m : List.copyOf(registry.getMeters())) {
            if ((m.getId().getName().startsWith("bulkhead.") && tagsMatch(m))
                    || (m.getId().getName().startsWith("vllm:") && model.equals(m.getId().getTag("model_name")))) {
                registry.remove(m);
            }
        }
    }

    private boolean tagsMatch(io.micrometer.core.instrument.Meter m) {
        for (io.micrometer.core.instrument.Tag t : tags) {
            if (!t.getValue().equals(m.getId().getTag(t.getKey()))) {
                return false;
            }
        }
        return true;
    }

    /** One loop iteration that ran or completed a step: its host time and the exposed part of it. */
    void hostTime(long hostNanos, long exposedNanos) {
        hostTime.record(hostNanos, TimeUnit.NANOSECONDS);
        exposedHostTime.record(exposedNanos, TimeUnit.NANOSECONDS);
    }

    void step(int tokens, long nanos) {
        stepTokens.record(tokens);
        stepTime.record(nanos, TimeUnit.NANOSECONDS);
    }
}
