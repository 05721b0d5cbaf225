package dev.bulkhead.engine.internal.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.kvcache.KvMemoryLimit;
import org.junit.jupiter.api.Test;

/** The CPU backend's cap on an automatic KV pool, from heap figures given here rather than this JVM's. */
class HeapKvLimitTest {

    private static final long MIB = 1L << 20;
    // stories110M: 12 layers of 12 KV heads * 64 dims, f32 K and V.
    private static final int KV_DIM = 768;
    private static final long PER_TOKEN = 2L * 12 * KV_DIM * 4;

    @Test
    void anIdleHeapGivesTheKvPoolThreeQuartersOfIt() {
        KvMemoryLimit l = new HeapKvLimit(8192 * MIB, 100 * MIB).kvLimit(KV_DIM, PER_TOKEN);
        assertThat(l.bytes()).isEqualTo(6144 * MIB);
        assertThat(l.source()).startsWith("3/4 of the JVM's 8192.0 MiB maximum heap (-Xmx");
    }

    @Test
    void whatIsInUseStaysWithAnEighthOfTheHeapFree() {
        // 8 GiB heap with 2 GiB in use: 8192 - 2048 - 1024 = 5120 MiB left, under the 6144 MiB share.
        KvMemoryLimit l = new HeapKvLimit(8192 * MIB, 2048 * MIB).kvLimit(KV_DIM, PER_TOKEN);
        assertThat(l.bytes()).isEqualTo(5120 * MIB);
        assertThat(l.source()).contains("8192.0 MiB maximum heap").contains("less 2048.0 MiB in use")
                .contains("1024.0 MiB (1/8) kept free");
    }

    @Test
    void aFullHeapLeavesNothing() {
        assertThat(new HeapKvLimit(512 * MIB, 500 * MIB).kvLimit(KV_DIM, PER_TOKEN).bytes()).isZero();
    }

    @Test
    void neverMoreThanOneLayersArrayCanIndex() {
        // A huge heap and one wide layer: one K array holds at most Integer.MAX_VALUE - 8 floats.
        int kvDim = 8 * 128;
        long perToken = 2L * kvDim * 4;
        KvMemoryLimit l = new HeapKvLimit(1L << 50, 0).kvLimit(kvDim, perToken);
        long tokens = (Integer.MAX_VALUE - 8) / kvDim;
        assertThat(l.bytes()).isEqualTo(tokens * perToken);
        assertThat(l.source()).contains(tokens + " tokens");
    }

    @Test
    void anUnboundedHeapDoesNotOverflow() {
        KvMemoryLimit l = new HeapKvLimit(Long.MAX_VALUE, 1L << 30).kvLimit(KV_DIM, PER_TOKEN);
        assertThat(l.bytes()).isPositive().isEqualTo((HeapKvLimit.MAX_LAYER_FLOATS / KV_DIM) * PER_TOKEN);
    }

    @Test
    void rejectsImpossibleFigures() {
        assertThatThrownBy(() -> new HeapKvLimit(0, 0)).hasMessageContaining("maxHeapBytes must be >= 1");
        assertThatThrownBy(() -> new HeapKvLimit(MIB, 0).kvLimit(0, 1)).hasMessageContaining("kvDim");
    }

    @Test
    void theCpuFactoryMeasuresThisJvmsHeap() {
        long max = Runtime.getRuntime().maxMemory();
        try (var model = dev.bulkhead.model.ModelLoader.load(null)) {
            KvMemoryLimit l = ModelRunnerFactory.CPU.autoKvLimit(model.config());
            assertThat(l.bytes()).isBetween(0L, max - max / 4);
            assertThat(l.source()).contains("maximum heap");
            KvMemoryLimit decorated = ModelRunnerFactory.decorating(new FixedLimit(), (r, o) -> r)
                    .autoKvLimit(model.config());
            assertThat(decorated.source()).as("a decorated factory keeps its base's limit").isEqualTo("fixed");
        }
    }

    private static final class FixedLimit implements ModelRunnerFactory {
        @Override
        public ModelRunner create(dev.bulkhead.model.arch.ModelWeights weights, CpuRunnerOptions options) {
            throw new UnsupportedOperationException();
        }

        @Override
        public KvMemoryLimit autoKvLimit(dev.bulkhead.model.config.ModelConfig config) {
            return new KvMemoryLimit(1, "fixed");
        }
    }
}
