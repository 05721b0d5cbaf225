package dev.bulkhead.bench.serving;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.model.ModelLoader;
import dev.bulkhead.server.bench.LengthDistribution;
import dev.bulkhead.server.bench.TraceGenerator;
import dev.bulkhead.server.bench.TraceRequest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The replay driver end to end on the embedded stories260K: every request completes with sane metrics. */
class TraceReplayerSmokeTest {

    @Test
    void replaysATraceAndWritesItsJsonAndPlots(@TempDir Path dir) throws Exception {
        TraceGenerator generator = new TraceGenerator(50, 8, new LengthDistribution(12, 0.8, 2, 60),
                new LengthDistribution(10, 0.8, 2, 40), 128);
        List<TraceRequest> trace = generator.generate(1);
        EngineOptions options = EngineOptions.defaults().withThreads(2).withMaxModelLen(128).withMaxRunning(8)
                .withMaxBatchedTokens(64).withKvCacheBytes(64L * 16 * 2 * 5 * 32 * Float.BYTES);
        try (LlmEngine engine = new LlmEngine(ModelLoader.load(null), options, new SimpleMeterRegistry())) {
            TraceReplayer replayer = new TraceReplayer(engine, Duration.ofSeconds(60));
            RandomPrompts prompts = new RandomPrompts(engine.config().vocabSize(), engine.tokenizer().bosId(), 3);
            TraceReplayer.Result result = replayer.replay(trace, prompts, "t-");

            assertThat(result.requests()).hasSize(trace.size());
            for (int i = 0; i < trace.size(); i++) {
                RequestTiming r = result.requests().get(i);
                assertThat(r.succeeded()).as(r.requestId() + " " + r.error()).isTrue();
                assertThat(r.outputTokens()).isEqualTo(trace.get(i).outputLen());
                assertThat(r.promptTokens()).isEqualTo(trace.get(i).promptLen());
                assertThat(r.finishReason()).isEqualTo("LENGTH");
                assertThat(r.ttftMillis()).isPositive().isFinite();
            }
            ServingSummary s = result.summary();
            assertThat(s.completed()).isEqualTo(trace.size());
            assertThat(s.failed()).isZero();
            assertThat(s.outputTokens()).isEqualTo(trace.stream().mapToLong(TraceRequest::outputLen).sum());
            assertThat(s.outputTokensPerSecond()).isPositive().isFinite();
            assertThat(s.ttft().p99()).isFinite().isGreaterThanOrEqualTo(s.ttft().p50());
            assertThat(s.itl().count()).isEqualTo((int) (s.outputTokens() - trace.size()));
            assertThat(s.itl().p50()).isFinite().isNotNegative();
            assertThat(s.tpot().p90()).isFinite();

            // a second replay with its own prompt seed is not served from the cache the first one filled
            long hits = engine.stats().kv().hitTokens();
            TraceReplayer.Result again = replayer.replay(trace, new RandomPrompts(engine.config().vocabSize(),
                    engine.tokenizer().bosId(), 4), "u-");
            assertThat(again.summary().completed()).isEqualTo(trace.size());
            assertThat(engine.stats().kv().hitTokens()).isEqualTo(hits);

            ServingReport.write(dir.resolve("s.json"), java.util.Map.of("model", "stories260K"),
                    BenchEnvironment.capture(), result);
            ServingPlot.writeRun(dir.resolve("s.png"), "smoke", result);
            ServingPlot.writeComparison(dir.resolve("c.png"), "smoke", List.of(new ServingPlot.Run("50", result)));
        }
        assertThat(Files.readString(dir.resolve("s.json"))).contains("\"ttft\"", "\"requests\"", "\"t-7\"");
        assertThat(Files.size(dir.resolve("s.png"))).isPositive();
        assertThat(Files.size(dir.resolve("c.png"))).isPositive();
    }

    @Test
    void aRefusedRequestIsRecordedAsFailedNotThrown() throws Exception {
        EngineOptions options = EngineOptions.defaults().withThreads(1).withMaxModelLen(64)
                .withKvCacheBytes(16L * 16 * 2 * 5 * 32 * Float.BYTES);
        try (LlmEngine engine = new LlmEngine(ModelLoader.load(null), options, new SimpleMeterRegistry())) {
            TraceReplayer replayer = new TraceReplayer(engine, Duration.ofSeconds(30));
            // 60 + 20 tokens is past the 64-token context
            TraceReplayer.Result result = replayer.replay(List.of(new TraceRequest(0, 60, 20), new TraceRequest(0, 5, 3)),
                    new RandomPrompts(512, 1, 0), "x-");
            assertThat(result.requests().get(0).succeeded()).isFalse();
            assertThat(result.requests().get(0).error()).startsWith("refused");
            assertThat(result.requests().get(1).succeeded()).isTrue();
            assertThat(result.summary().failed()).isEqualTo(1);
        }
    }
}
