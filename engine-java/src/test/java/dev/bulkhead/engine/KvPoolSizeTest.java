package dev.bulkhead.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.kvcache.KvMemoryLimit;
import org.junit.jupiter.api.Test;

/** What the engine's start line says about its KV pool: the size, and whether and how it was auto-sized. */
class KvPoolSizeTest {

    private static final long PER_TOKEN = 1280; // the embedded stories260K, f32

    @Test
    void sayItWasAutoSizedToTheDemand() {
        KvPoolSize s = KvPoolSize.choose(EngineOptions.defaults().withMaxRunning(64), 512, PER_TOKEN,
                () -> new KvMemoryLimit(1L << 30, "the heap"));
        assertThat(s.budgetBytes()).isEqualTo((64 * 32 + 1) * 16 * PER_TOKEN);
        assertThat(s.description()).isEqualTo("40.0 MiB auto-sized to the demand of 64 sequences of 512 tokens");
    }

    @Test
    void sayItWasAutoSizedToTheMemoryCapAndFromWhat() {
        KvPoolSize s = KvPoolSize.choose(EngineOptions.defaults().withMaxRunning(64), 512, PER_TOKEN,
                () -> new KvMemoryLimit(10L << 20, "3/4 of the heap"));
        assertThat(s.budgetBytes()).isEqualTo((10L << 20) / (16 * PER_TOKEN) * 16 * PER_TOKEN);
        assertThat(s.description()).isEqualTo("10.0 MiB auto-sized to the memory cap, 3/4 of the heap (the demand "
                + "of 64 sequences of 512 tokens is 40.0 MiB)");
    }

    @Test
    void anExplicitSizeIsAsSetAndNotMeasured() {
        KvPoolSize s = KvPoolSize.choose(EngineOptions.defaults().withKvCacheBytes(256L << 20), 512, PER_TOKEN,
                () -> {
                    throw new AssertionError("measured");
                });
        assertThat(s.budgetBytes()).isEqualTo(256L << 20);
        assertThat(s.description()).isEqualTo("256.0 MiB as set");
    }
}
