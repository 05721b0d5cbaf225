package dev.bulkhead.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.model.embedded.EmbeddedModel;
import dev.bulkhead.model.synth.ModelShapes;
import dev.bulkhead.model.synth.RandomCheckpointGenerator;
import dev.bulkhead.model.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each engine decodes a tiny random Llama end to end: a smoke test of the wiring, not a benchmark. (Jlama
 * needs an FFN width divisible by 8, which stories260K's 172 is not; its tokenizer is borrowed.)
 */
class EngineDecodeTest {

    @TempDir
    static Path tmp;

    static Path model;

    @BeforeAll
    static void generate() {
        Path tokenizer = EmbeddedModel.extract(tmp.resolve("embedded"));
        model = RandomCheckpointGenerator.generate(ModelShapes.get("tiny-llama"), DType.F32, 3, tmp.resolve("tiny"),
                tokenizer).dir();
    }

    @Test
    void bulkheadDecodesTheRequestedTokensInEveryRun() {
        DecodeResult r = BulkheadDecode.run(new DecodeSpec(model, "f32", 2, 16, 1, 2));
        assertThat(r.engine()).isEqualTo("bulkhead");
        assertThat(r.tokens()).isEqualTo(16);
        assertThat(r.threads()).isEqualTo(2);
        assertThat(r.runSeconds()).hasSize(2).allSatisfy(s -> assertThat(s).isPositive());
    }

    @Test
    void jlamaDecodesInAChildJvm() {
        DecodeResult r = DecodeChild.fork("jlama", new DecodeSpec(model, "f32", 1, 8, 0, 1), 120);
        assertThat(r.engine()).isEqualTo("jlama");
        assertThat(r.runSeconds()).hasSize(1);
        assertThat(r.note()).contains("Jlama");
    }

    @Test
    void argmaxTakesTheFirstLargestLogit() {
        assertThat(BulkheadDecode.argmax(new float[] {0f, 3f, 1f, 3f, 9f}, 4)).isEqualTo(1);
    }

    @Test
    void bandwidthProbeSumsItsBufferAndReportsARate() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(4096, 64);
            for (int i = 0; i < 1024; i++) {
                s.setAtIndex(ValueLayout.JAVA_FLOAT, i, i % 4);
            }
            assertThat(MemoryBandwidth.sum(s, 0, 4096)).isEqualTo(1536f);
        }
        assertThat(MemoryBandwidth.measure(64L << 20, 2, 1)).isPositive();
    }
}
