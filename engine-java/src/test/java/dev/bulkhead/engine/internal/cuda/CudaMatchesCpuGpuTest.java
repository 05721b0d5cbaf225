package dev.bulkhead.engine.internal.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.cuemu.EmulatorSeedReporter;
import dev.bulkhead.cuemu.GpuTarget;
import dev.bulkhead.engine.internal.cuda.ComparedModels.Compared;
import dev.bulkhead.engine.internal.runner.BatchInput;
import dev.bulkhead.engine.internal.runner.CpuModelRunner;
import dev.bulkhead.engine.internal.runner.CpuRunnerOptions;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * The whole CUDA forward pass against the CPU runner fed the same bf16-rounded weights, on stories260K (HF and
 * GGUF with interleaved RoPE) and every tiny family shape (q/k/v bias, q/k norm, llama3 RoPE scaling, a sliding
 * window): a 20-token prompt, then 130 tokens the CPU chose greedily.
 *
 * <p>Tolerance: |cuda - cpu| <= {@value #ATOL} + {@value #RTOL} * |cpu| for every logit. The CUDA path rounds
 * the normed input of each projection, the attention output, the SwiGLU output and the KV cache to bf16 (8
 * significant bits, relative step 2^-8), where the CPU keeps f32; over a few layers that moves logits by a
 * few hundredths (the largest seen is printed per model). Greedy ids are compared where the CPU's top-2 gap
 * is wider than twice the tolerance, the widest gap two logits each within the tolerance can swap.
 */
@Tag("gpu")
@ExtendWith(EmulatorSeedReporter.class)
class CudaMatchesCpuGpuTest {

    static final double TOL = Double.parseDouble(System.getProperty("bulkhead.test.cudaTolerance", "0.04"));
    static final int PROMPT = 20;
    static final int TOTAL = 150;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void target() {
        GpuTarget.require();
    }

    /** The prompt: BOS then PROMPT - 1 fixed pseudo-random tokens. */
    static int[] prompt(int bos, int vocab) {
        Random r = new Random(29);
        int[] p = new int[PROMPT];
        p[0] = bos;
        for (int i = 1; i < PROMPT; i++) {
            p[i] = 3 + r.nextInt(vocab - 3);
        }
        return p;
    }

    static int[] table(int tokens, int blockSize) {
        return IntStream.range(1, 1 + (tokens + blockSize - 1) / blockSize).toArray();
    }

    /** The CPU's greedy sequence of TOTAL tokens from the prompt, and its logits at every position. */
    record Reference(int[] tokens, float[] logits) {
    }

    static Reference cpuReference(Compared m) {
        int vocab = m.config().vocabSize();
        int[] seq = Arrays.copyOf(prompt(m.config().bosTokenId(), vocab), TOTAL);
        int[] blocks = table(TOTAL, 16);
        try (CpuModelRunner cpu = new CpuModelRunner(m.cpuBf16(), new CpuRunnerOptions(1, 16, blocks.length + 1, 256))) {
            float[] l = cpu.forward(BatchInput.single(Arrays.copyOf(seq, PROMPT), 0, blocks));
            for (int pos = PROMPT; pos < TOTAL; pos++) {
                seq[pos] = argmax(l, 0, vocab);
                l = cpu.forward(BatchInput.single(new int[] {seq[pos]}, pos, blocks));
            }
            // Logits at every position in one step (the CPU backend is batch invariant).
            int[] all = IntStream.range(0, TOTAL).toArray();
            int[] pos = all.clone();
            float[] logits = cpu.forward(new BatchInput(seq, pos, new int[] {0, TOTAL}, new int[][] {blocks}, all)).clone();
            return new Reference(seq, logits);
        }
    }

    static int argmax(float[] v, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (v[off + i] > v[off + best]) {
                best = i;
            }
        }
        return best;
    }

    static double gap(float[] v, int off, int n) {
        int best = argmax(v, off, n);
        double second = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            if (i != best) {
                second = Math.max(second, v[off + i]);
            }
        }
        return v[off + best] - second;
    }

    /** The largest |logit| of the CPU at position p: the scale the tolerance is relative to. */
    static double scale(float[] cpu, int p, int vocab) {
        double m = 0;
        for (int v = 0; v < vocab; v++) {
            m = Math.max(m, Math.abs(cpu[p * vocab + v]));
        }
        return m;
    }

    /** The allowed |cuda - cpu| at position p. */
    static double tolerance(float[] cpu, int p, int vocab) {
        return TOL * scale(cpu, p, vocab);
    }

    /** Asserts logits of positions [from, to); returns the largest error seen as a fraction of its position's scale. */
    static double compare(String what, float[] cuda, int cudaRow0, float[] cpu, int from, int to, int vocab) {
        double worst = 0;
        for (int p = from; p < to; p++) {
            double s = scale(cpu, p, vocab);
            for (int v = 0; v < vocab; v++) {
                double c = cpu[p * vocab + v];
                double g = cuda[(p - from + cudaRow0) * vocab + v];
                double err = Math.abs(g - c);
                worst = Math.max(worst, Double.isNaN(err) ? Double.POSITIVE_INFINITY : err / s);
                if (!(err <= TOL * s)) {
                    throw new AssertionError(what + ": logit " + v + " at position " + p + " is " + g + " on CUDA, "
                            + c + " on the CPU (scale " + s + ", tolerance " + TOL * s + ")");
                }
            }
        }
        return worst;
    }

    @ParameterizedTest
    @FieldSource("dev.bulkhead.engine.internal.cuda.ComparedModels#NAMES")
    void decodeStepsAfterAChunkedPrefillMatchTheCpuAtEveryPosition(String name) {
        try (Compared m = ComparedModels.load(name, tmp)) {
            Reference ref = cpuReference(m);
            int vocab = m.config().vocabSize();
            int[] blocks = table(TOTAL, 16);
            double worst = 0;
            int greedyChecked = 0;
            try (CudaModelRunner cuda = new CudaModelRunner(m.weights(), new CpuRunnerOptions(1, 16, blocks.length + 1, 8), 0)) {
                // The prompt in chunks of 8, 8 and 4 tokens; only the last asks for logits, as the engine does.
                float[] l = null;
                for (int start = 0; start < PROMPT; start += 8) {
                    int end = Math.min(PROMPT, start + 8);
                    int[] chunk = Arrays.copyOfRange(ref.tokens(), start, end);
                    int[] pos = IntStream.range(start, end).toArray();
                    int[] rows = end == PROMPT ? new int[] {end - start - 1} : new int[0];
                    l = cuda.forward(new BatchInput(chunk, pos, new int[] {0, chunk.length}, new int[][] {blocks}, rows));
                }
                for (int pos = PROMPT; pos <= TOTAL; pos++) {
                    worst = Math.max(worst, compare(name + " decode", l, 0, ref.logits(), pos - 1, pos, vocab));
                    if (gap(ref.logits(), (pos - 1) * vocab, vocab) > 2 * tolerance(ref.logits(), pos - 1, vocab)) {
                        assertThat(argmax(l, 0, vocab)).as("%s greedy id after position %d", name, pos - 1)
                                .isEqualTo(argmax(ref.logits(), (pos - 1) * vocab, vocab));
                        greedyChecked++;
                    }
                    if (pos < TOTAL) {
                        l = cuda.forward(BatchInput.single(new int[] {ref.tokens()[pos]}, pos, blocks));
                    }
                }
            }
            System.out.printf("[cuda vs cpu] %s decode: largest logit error %.5f of the scale over %d positions, %d greedy ids"
                    + " compared%n", name, worst, TOTAL - PROMPT + 1, greedyChecked);
            assertThat(greedyChecked).as("positions with a clear top-2 gap").isGreaterThan(0);
        }
    }

    @ParameterizedTest
    @FieldSource("dev.bulkhead.engine.internal.cuda.ComparedModels#NAMES")
    void onePrefillStepMatchesTheCpuAtEveryPosition(String name) {
        try (Compared m = ComparedModels.load(name, tmp)) {
            Reference ref = cpuReference(m);
            int vocab = m.config().vocabSize();
            int[] blocks = table(TOTAL, 16);
            int[] all = IntStream.range(0, TOTAL).toArray();
            try (CudaModelRunner cuda = new CudaModelRunner(m.weights(), new CpuRunnerOptions(1, 16, blocks.length + 1, 256), 0)) {
                float[] l = cuda.forward(new BatchInput(ref.tokens(), all.clone(), new int[] {0, TOTAL},
                        new int[][] {blocks}, all));
                double worst = compare(name + " prefill", l, 0, ref.logits(), 0, TOTAL, vocab);
                System.out.printf("[cuda vs cpu] %s prefill: largest logit error %.5f of the scale over %d positions%n", name, worst,
                        TOTAL);
            }
        }
    }

    @org.junit.jupiter.api.Test
    void aStepWithMoreThan256SampledRowsMatchesTheCpu() {
        // 300 sequences of one token each: 256 through the decode kernel, the rest through prefill tiles, and
        // 300 logit rows, more than one LM-head pass holds.
        try (Compared m = ComparedModels.load("tiny-qwen2", tmp)) {
            int seqs = 300;
            int vocab = m.config().vocabSize();
            int[] tokens = new int[seqs];
            int[] pos = new int[seqs];
            int[] starts = new int[seqs + 1];
            int[][] tables = new int[seqs][];
            Random r = new Random(3);
            for (int s = 0; s < seqs; s++) {
                tokens[s] = 3 + r.nextInt(vocab - 3);
                starts[s + 1] = s + 1;
                tables[s] = new int[] {1 + s};
            }
            int[] rows = IntStream.range(0, seqs).toArray();
            BatchInput b = new BatchInput(tokens, pos, starts, tables, rows);
            CpuRunnerOptions options = new CpuRunnerOptions(1, 16, seqs + 1, 512);
            float[] cpu;
            try (CpuModelRunner c = new CpuModelRunner(m.cpuBf16(), options)) {
                cpu = c.forward(b).clone();
            }
            try (CudaModelRunner cuda = new CudaModelRunner(m.weights(), options, 0)) {
                float[] got = cuda.forward(b);
                compare("300 rows", got, 0, cpu, 0, seqs, vocab);
                int[] ids = cuda.greedy(b);
                assertThat(ids).hasSize(seqs);
                for (int s = 0; s < seqs; s++) {
                    if (gap(cpu, s * vocab, vocab) > 2 * tolerance(cpu, s, vocab)) {
                        assertThat(ids[s]).as("device greedy id of row %d", s).isEqualTo(argmax(cpu, s * vocab, vocab));
                    }
                }
            }
        }
    }

    @org.junit.jupiter.api.Test
    void aPoolOfAMillionPositionsDecodesWithinTheDefaultSharedMemory() {
        // The split-K partition used to grow with the pool (here past 48 KiB of shared memory, which a launch
        // may not use without opting in); it now follows the step's own contexts.
        try (Compared m = ComparedModels.load("tiny-llama", tmp)) {
            ModelWeightsWithPositions big = ModelWeightsWithPositions.of(m, 1 << 20);
            int blocks = (1 << 20) / 16;
            int[] table = IntStream.range(1, 3).toArray();
            int[] prompt = prompt(m.config().bosTokenId(), m.config().vocabSize());
            float[] cpu;
            try (CpuModelRunner c = new CpuModelRunner(big.cpu(), new CpuRunnerOptions(1, 16, 3, 32))) {
                cpu = c.forward(BatchInput.single(prompt, 0, table)).clone();
                cpu = c.forward(BatchInput.single(new int[] {5}, prompt.length, table)).clone();
            }
            try (CudaModelRunner cuda = new CudaModelRunner(big.cuda(), new CpuRunnerOptions(1, 16, blocks, 32), 0)) {
                cuda.forward(BatchInput.single(prompt, 0, table));
                float[] got = cuda.forward(BatchInput.single(new int[] {5}, prompt.length, table));
                compare("decode in a 1M-position pool", got, 0, cpu, 0, 1, m.config().vocabSize());
            }
        }
    }

    /** A model's weights with max_position_embeddings raised, for both runners. */
    record ModelWeightsWithPositions(dev.bulkhead.model.arch.ModelWeights cuda, dev.bulkhead.model.arch.ModelWeights cpu) {
        static ModelWeightsWithPositions of(Compared m, int positions) {
            return new ModelWeightsWithPositions(withPositions(m.weights(), positions), withPositions(m.cpuBf16(), positions));
        }

        private static dev.bulkhead.model.arch.ModelWeights withPositions(dev.bulkhead.model.arch.ModelWeights w, int positions) {
            var c = w.config();
            var bigger = new dev.bulkhead.model.config.ModelConfig(c.family(), c.hiddenSize(), c.intermediateSize(),
                    c.numLayers(), c.numHeads(), c.numKvHeads(), c.headDim(), c.vocabSize(), positions, c.rmsNormEps(),
                    c.ropeTheta(), c.ropeScaling(), c.ropeStyle(), c.tieWordEmbeddings(), c.attentionBias(), c.qkNorm(),
                    c.slidingWindow(), c.bosTokenId(), c.eosTokenIds(), c.dtype());
            return new dev.bulkhead.model.arch.ModelWeights(bigger, w.embedding(), w.layers(), w.finalNorm(), w.lmHead());
        }
    }
}
