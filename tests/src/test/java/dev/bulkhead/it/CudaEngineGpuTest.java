package dev.bulkhead.it;

import static dev.bulkhead.it.EngineFixtures.await;
import static dev.bulkhead.it.EngineFixtures.awaitIdle;
import static dev.bulkhead.it.EngineFixtures.greedy;
import static dev.bulkhead.it.EngineFixtures.randomPrompt;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.bulkhead.cuemu.CudaEmulator;
import dev.bulkhead.cuemu.EmulatorSeedReporter;
import dev.bulkhead.cuemu.GpuTarget;
import dev.bulkhead.cuemu.OnGpuTarget;
import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.engine.EngineStepException;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.internal.runner.BackendLostException;
import dev.bulkhead.it.EngineFixtures.Backend;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The engine on the CUDA backend (the emulator in every build) where it differs from the CPU: a KV budget buys
 * twice the blocks (the cache is bf16), and a sticky CUDA error stops the engine for good, so that a new engine,
 * on a fresh context, takes over.
 */
@Tag("gpu")
@ExtendWith({OnGpuTarget.class, EmulatorSeedReporter.class})
class CudaEngineGpuTest {

    private static final Backend CUDA = Backend.cuda(1);

    @AfterEach
    void clearFaults() {
        if (CudaEmulator.isActive()) {
            CudaEmulator.configure("faults", "");
        }
    }

    @Test
    void aKvBudgetHoldsTwiceTheCpuBlocksOnTheBf16Cache() throws Exception {
        // 9 blocks of 16 tokens at f32 (1280 bytes a token): 8 usable on the CPU; at bf16 the same bytes are 18.
        EngineOptions options = EngineFixtures.options(8).withMaxModelLen(64).withMaxRunning(8);
        assertThat(options.kvCacheBytes()).isEqualTo(9L * 16 * EngineFixtures.KV_ELEMENTS_PER_TOKEN * Float.BYTES);
        SplittableRandom rnd = new SplittableRandom(5);
        List<GenerateRequest> requests = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            requests.add(greedy("k" + i, randomPrompt(rnd, 44, 44), 16));
        }
        try (LlmEngine cpu = Backend.CPU.engine(options); LlmEngine cuda = CUDA.engine(options)) {
            assertThat(cpu.kvCapacityTokens()).isEqualTo(8 * 16);
            assertThat(cuda.kvCapacityTokens()).as("usable blocks of a bf16 pool in the same bytes").isEqualTo(17 * 16);
            // And the runner really has them: four requests of 60 tokens (4 blocks each, twice the CPU's pool)
            // run together without a preemption.
            List<CompletableFuture<Completion>> futures = requests.stream().map(cuda::generate).toList();
            int peak = 0;
            while (!futures.stream().allMatch(CompletableFuture::isDone)) {
                peak = Math.max(peak, cuda.stats().kv().numInUse());
                Thread.sleep(1);
            }
            futures.forEach(f -> assertThat(await(f).tokenIds()).hasSize(16));
            awaitIdle(cuda);
            assertThat(peak).as("most blocks in use at once").isGreaterThan(8);
            assertThat(cuda.stats().numPreemptions()).isZero();
            assertThat(cuda.stats().kv().numInUse()).isZero();
        }
    }

    @Test
    void aStickyErrorStopsTheEngineAndANewEngineServesOnAFreshContext() throws Exception {
        GpuTarget.requireEmulator(); // the fault is injected by the emulator
        GenerateRequest story = greedy("story", new int[] {1, 403, 407, 261, 378}, 24);
        EngineOptions options = CUDA.options(64).withMaxRunning(1);
        int[] before;
        LlmEngine engine = CUDA.engine(options);
        try {
            before = await(engine.generate(story)).tokenIds();
            long injected = CudaEmulator.stats().faultsInjected();
            // The 18th SwiGLU from now (one a layer, five layers): layer 3 of the 4th step, when "running" decodes
            // and "waiting" has long reached the scheduler (maxRunning 1 keeps it waiting).
            CudaEmulator.configure("faults", "launch:bk_silu_mul:18");
            CompletableFuture<Completion> running = engine.generate(story.withRequestId("running"));
            CompletableFuture<Completion> waiting = engine.generate(story.withRequestId("waiting"));
            for (CompletableFuture<Completion> f : List.of(running, waiting)) {
                Throwable t = catchThrowable(() -> f.get(60, TimeUnit.SECONDS));
                assertThat(t).isInstanceOf(ExecutionException.class).cause().isInstanceOf(EngineStepException.class);
                assertThat(causes(t)).as("cause chain of %s", t).filteredOn(BackendLostException.class::isInstance)
                        .singleElement().satisfies(e -> assertThat(e).hasMessageContaining("CUDA_ERROR_ILLEGAL_ADDRESS"));
            }
            assertThat(CudaEmulator.stats().faultsInjected()).isEqualTo(injected + 1);
            assertThat(awaitStopped(engine, Duration.ofSeconds(10))).as("the engine loop stops").isTrue();
            assertThat(engine.failure()).hasValueSatisfying(f -> assertThat(f).contains("CUDA_ERROR_ILLEGAL_ADDRESS"));
            assertThatThrownBy(() -> engine.generate(story.withRequestId("late")))
                    .isInstanceOf(IllegalStateException.class).hasMessageStartingWith("engine stopped: ")
                    .hasMessageContaining("CUDA_ERROR_ILLEGAL_ADDRESS");
        } finally {
            CudaEmulator.configure("faults", "");
            closeLost(engine);
        }
        // Every user of the poisoned primary context released it, so the next engine gets a fresh one.
        try (LlmEngine fresh = CUDA.engine(options)) {
            assertThat(await(fresh.generate(story)).tokenIds()).containsExactly(before);
            assertThat(fresh.isRunning()).isTrue();
            assertThat(fresh.failure()).isEmpty();
        }
    }

    /**
     * Closes an engine whose context is lost: the context is released without a free per buffer (each would be
     * refused with the sticky error), so closing succeeds and the model's files are released too.
     */
    private static void closeLost(LlmEngine engine) {
        assertThatCode(engine::close).doesNotThrowAnyException();
        assertThat(engine.isRunning()).isFalse();
    }

    private static boolean awaitStopped(LlmEngine engine, Duration timeout) throws InterruptedException {
        long until = System.nanoTime() + timeout.toNanos();
        while (engine.isRunning() && System.nanoTime() - until < 0) {
            Thread.sleep(5);
        }
        return !engine.isRunning();
    }

    private static List<Throwable> causes(Throwable t) {
        List<Throwable> out = new java.util.ArrayList<>();
        for (Throwable c = t; c != null && !out.contains(c); c = c.getCause()) {
            out.add(c);
        }
        return out;
    }

}
