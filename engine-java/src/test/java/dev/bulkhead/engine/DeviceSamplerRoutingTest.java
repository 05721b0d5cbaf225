package dev.bulkhead.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.FinishReason;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.GuidedDecoding;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.internal.runner.BatchInput;
import dev.bulkhead.engine.internal.runner.DeviceSampler;
import dev.bulkhead.engine.internal.runner.ForwardingModelRunner;
import dev.bulkhead.engine.internal.runner.ModelRunner;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.engine.internal.runner.SamplingRows;
import dev.bulkhead.model.ModelLoader;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The engine's side of device sampling, on the CPU with a stand-in device sampler (greedy argmax on the CPU
 * runner's logits): plain rows go to the device and only their ids come back; rows that need the host sampler
 * (a JSON guide, log-probabilities, a penalty list past the runner's room) come back as logits, in order; a row
 * the device could not sample (-1) fails its own request alone. Outputs equal an engine that samples everything
 * on the host.
 */
class DeviceSamplerRoutingTest {

    private static final int MARKER = 7;  // a prompt ending in it gets -1 from the stand-in device

    /** CPU runner with a greedy "device": what the engine hands it and takes back is the part under test. */
    static final class GreedyDevice extends ForwardingModelRunner implements DeviceSampler {
        private final int penaltyCapacity;
        private final CountDownLatch start;
        final List<Integer> penaltyEntries = new ArrayList<>();  // per device row seen
        private int[] ids = new int[0];
        private float[] host = new float[0];

        GreedyDevice(ModelRunner cpu, int penaltyCapacity, CountDownLatch start) {
            super(cpu);
            this.penaltyCapacity = penaltyCapacity;
            this.start = start;
        }

        @Override
        public boolean samplesOnDevice() {
            return true;
        }

        @Override
        public int penaltyCapacity() {
            return penaltyCapacity;
        }

        @Override
        public SampledStep forwardAndSample(BatchInput batch, SamplingRows rows) {
            try {
                start.await(); // NOTE: holds the first step until every request is queued, so they share it
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            float[] logits = delegate.forward(batch);
            int vocab = config().vocabSize();
            int n = batch.logitIndices().length;
            assertThat(rows.rows()).isEqualTo(n);
            ids = new int[n];
            host = new float[n * vocab];
            int hostRows = 0;
            for (int i = 0; i < n; i++) {
                if (rows.onDevice(i)) {
                    penaltyEntries.add(rows.penaltyStart(i + 1) - rows.penaltyStart(i));
                    boolean poisoned = batch.tokenIds()[batch.logitIndices()[i]] == MARKER;
                    ids[i] = poisoned ? -1 : argmax(logits, i * vocab, vocab);
                } else {
                    System.arraycopy(logits, i * vocab, host, hostRows++ * vocab, vocab);
                }
            }
            return new SampledStep(ids, host, hostRows);
        }

        private static int argmax(float[] v, int from, int n) {
            int best = 0;
            for (int i = 1; i < n; i++) {
                if (v[from + i] > v[from + best]) {
                    best = i;
                }
            }
            return best;
        }
    }

    private static final EngineOptions OPTIONS = EngineOptions.defaults().withThreads(1).withMaxModelLen(128);

    private static List<GenerateRequest> requests() {
        SamplingParams greedy = SamplingParams.greedy(10).toBuilder().ignoreEos(true).build();
        return List.of(
                GenerateRequest.ofTokens(new int[] {1, 42, 43}, greedy).withRequestId("plain"),
                GenerateRequest.ofTokens(new int[] {1, 50, 51}, greedy.toBuilder().logprobs(2).build())
                        .withRequestId("logprobs"),
                GenerateRequest.ofTokens(new int[] {1, 60, 61}, greedy.toBuilder()
                        .guidedDecoding(new GuidedDecoding.JsonObject()).build()).withRequestId("guided"),
                GenerateRequest.ofTokens(new int[] {1, 70, 71, 72}, greedy).withRequestId("plain-2"));
    }

    private static List<Completion> run(LlmEngine engine, List<GenerateRequest> requests) throws Exception {
        List<CompletableFuture<Completion>> futures = requests.stream().map(engine::generate).toList();
        List<Completion> out = new ArrayList<>();
        for (CompletableFuture<Completion> f : futures) {
            out.add(f.get(60, TimeUnit.SECONDS));
        }
        return out;
    }

    @Test
    void deviceRowsAndHostRowsEachGetTheirOwnTokens() throws Exception {
        List<Completion> expected;
        try (LlmEngine host = new LlmEngine(ModelLoader.load(null), OPTIONS, new SimpleMeterRegistry())) {
            expected = run(host, requests());
        }
        CountDownLatch queued = new CountDownLatch(1);
        List<GreedyDevice> runners = new ArrayList<>();
        ModelRunnerFactory device = (weights, options) -> {
            GreedyDevice r = new GreedyDevice(ModelRunnerFactory.CPU.create(weights, options), 1 << 10, queued);
            runners.add(r);
            return r;
        };
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (LlmEngine engine = new LlmEngine("device", ModelLoader.load(null), OPTIONS, registry, device)) {
            List<GenerateRequest> all = new ArrayList<>(requests());
            all.add(GenerateRequest.ofTokens(new int[] {1, 42, MARKER}, all.get(0).sampling()).withRequestId("poisoned"));
            List<CompletableFuture<Completion>> futures = all.stream().map(engine::generate).toList();
            queued.countDown();
            for (int i = 0; i < expected.size(); i++) {
                Completion c = futures.get(i).get(60, TimeUnit.SECONDS);
                assertThat(c.tokenIds()).as(c.requestId()).containsExactly(expected.get(i).tokenIds());
                assertThat(c.logprobs()).as(c.requestId()).hasSameSizeAs(expected.get(i).logprobs());
            }
            assertThat(futures.get(1).join().logprobs()).hasSize(10)
                    .allSatisfy(lp -> assertThat(lp.top()).hasSize(2));
            assertThatThrownBy(futures.get(4)::join).isInstanceOf(CompletionException.class)
                    .hasCauseInstanceOf(EngineStepException.class)
                    .hasMessageContaining("sampling failed").hasMessageContaining("no finite value");
            double onDevice = registry.get("bulkhead.sampling.rows").tag("where", "device").counter().count();
            double onHost = registry.get("bulkhead.sampling.rows").tag("where", "host").counter().count();
            assertThat(onDevice).as("plain rows: 2 requests x 10 tokens, and the poisoned row").isEqualTo(21);
            assertThat(onHost).as("log-probabilities and guided rows: 2 requests x 10 tokens").isEqualTo(20);
            awaitNoBlocksInUse(engine);
        }
        assertThat(runners).singleElement().satisfies(r -> assertThat(r.penaltyEntries).containsOnly(0));
    }

    @Test
    void aPenaltyListPastTheRunnersRoomIsSampledOnTheHost() throws Exception {
        SamplingParams penalised = SamplingParams.greedy(6).toBuilder().ignoreEos(true).repetitionPenalty(1.3f)
                .frequencyPenalty(0.5f).build();
        GenerateRequest small = GenerateRequest.ofTokens(new int[] {1, 42, 43}, penalised).withRequestId("small");
        GenerateRequest large = GenerateRequest.ofTokens(new int[] {1, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29},
                penalised).withRequestId("large");
        CountDownLatch go = new CountDownLatch(0);
        List<GreedyDevice> runners = new ArrayList<>();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (LlmEngine engine = new LlmEngine("room", ModelLoader.load(null), OPTIONS, registry, (w, o) -> {
            GreedyDevice r = new GreedyDevice(ModelRunnerFactory.CPU.create(w, o), 8, go);
            runners.add(r);
            return r;
        })) {
            run(engine, List.of(small));
            assertThat(runners.get(0).penaltyEntries).as("distinct prompt and output tokens of each step")
                    .startsWith(3).isSorted().allSatisfy(n -> assertThat(n).isBetween(3, 8));
            Completion c = run(engine, List.of(large)).get(0);
            assertThat(c.finishReason()).isEqualTo(FinishReason.LENGTH);
            assertThat(registry.get("bulkhead.sampling.rows").tag("where", "host").counter().count())
                    .as("every row of the 11-token prompt: past 8 entries").isEqualTo(6);
        }
    }

    private static void awaitNoBlocksInUse(LlmEngine engine) throws InterruptedException {
        long until = System.nanoTime() + 5_000_000_000L;
        while ((engine.inFlight() > 0 || engine.stats().kv().numInUse() > 0) && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        assertThat(engine.stats().kv().numInUse()).isZero();
    }
}
