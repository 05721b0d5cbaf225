package dev.bulkhead.engine.internal.cuda;

import dev.bulkhead.model.LoadedModel;
import dev.bulkhead.model.ModelLoader;
import dev.bulkhead.model.arch.LayerWeights;
import dev.bulkhead.model.arch.ModelWeights;
import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.embedded.EmbeddedModel;
import dev.bulkhead.model.synth.ModelShapes;
import dev.bulkhead.model.synth.RandomCheckpointGenerator;
import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.Dequantizer;
import dev.bulkhead.model.tensor.WeightTensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/**
 * The models the CUDA runner is compared on, each with the CPU oracle's copy of its weights: every projection,
 * the embedding and the LM head rounded to bf16 exactly as the CUDA upload rounds them (norms and biases stay
 * f32 on both). The two runners then differ only where the CUDA path keeps activations in bf16 and in
 * summation order.
 */
final class ComparedModels {

    /** stories260K three ways (embedded safetensors, GGUF with interleaved RoPE) and every tiny family shape. */
    static final List<String> NAMES = List.of("stories260K", "stories260K-gguf", "tiny-llama", "tiny-llama3",
            "tiny-qwen2", "tiny-qwen3", "tiny-mistral-window");

    /** tiny-mistral with a sliding window short enough that 150 tokens cross it. */
    static final int WINDOW = 48;

    /**
     * One model: its weights as the CUDA runner loads them, and the bf16-rounded copy for the CPU.
     *
     * @param name     one of {@link #NAMES}
     * @param weights  as loaded
     * @param cpuBf16  the CPU oracle's weights
     * @param loaded   owner of the mapped files
     * @param arena    owner of the rounded copies
     */
    record Compared(String name, ModelWeights weights, ModelWeights cpuBf16, LoadedModel loaded, Arena arena)
            implements AutoCloseable {

        ModelConfig config() {
            return weights.config();
        }

        @Override
        public void close() {
            loaded.close();
            arena.close();
        }
    }

    private ComparedModels() {
    }

    static Compared load(String name, Path tmp) {
        LoadedModel loaded = ModelLoader.load(source(name, tmp).toString());
        ModelWeights w = loaded.weights();
        if (name.equals("tiny-mistral-window")) {
            ModelConfig c = w.config();
            ModelConfig windowed = new ModelConfig(c.family(), c.hiddenSize(), c.intermediateSize(), c.numLayers(),
                    c.numHeads(), c.numKvHeads(), c.headDim(), c.vocabSize(), c.maxPositionEmbeddings(), c.rmsNormEps(),
                    c.ropeTheta(), c.ropeScaling(), c.ropeStyle(), c.tieWordEmbeddings(), c.attentionBias(), c.qkNorm(),
                    WINDOW, c.bosTokenId(), c.eosTokenIds(), c.dtype());
            w = new ModelWeights(windowed, w.embedding(), w.layers(), w.finalNorm(), w.lmHead());
        }
        Arena arena = Arena.ofShared();
        return new Compared(name, w, roundedToBf16(w, arena), loaded, arena);
    }

    private static Path source(String name, Path tmp) {
        Path shared = Path.of(System.getProperty("bulkhead.shared.dir", "../shared"));
        switch (name) {
            case "stories260K":
                return EmbeddedModel.extract(tmp.resolve("embedded"));
            case "stories260K-gguf": {
                Path gguf = shared.resolve("models/stories260K-gguf/stories260K.gguf");
                Assumptions.assumeTrue(Files.isRegularFile(gguf), gguf + " not found (../shared beside the project)");
                return gguf;
            }
            default: {
                String shape = name.equals("tiny-mistral-window") ? "tiny-mistral" : name;
                Path dir = tmp.resolve(name);
                if (!Files.isDirectory(dir)) {
                    RandomCheckpointGenerator.generate(ModelShapes.get(shape), DType.BF16, 17, dir,
                            EmbeddedModel.extract(tmp.resolve("embedded")));
                }
                return dir;
            }
        }
    }

    /** A copy of {@code w} whose matrices hold the bf16 values the CUDA runner will hold. */
    static ModelWeights roundedToBf16(ModelWeights w, Arena arena) {
        Map<WeightTensor, WeightTensor> done = new IdentityHashMap<>();
        WeightTensor embedding = bf16(w.embedding(), arena, done);
        List<LayerWeights> layers = w.layers().stream().map(l -> new LayerWeights(l.inputNorm(),
                bf16(l.wq(), arena, done), bf16(l.wk(), arena, done), bf16(l.wv(), arena, done), bf16(l.wo(), arena, done),
                l.bq(), l.bk(), l.bv(), l.qNorm(), l.kNorm(), l.postAttnNorm(), bf16(l.gate(), arena, done),
                bf16(l.up(), arena, done), bf16(l.down(), arena, done))).toList();
        return new ModelWeights(w.config(), embedding, layers, w.finalNorm(), bf16(w.lmHead(), arena, done));
    }

    private static WeightTensor bf16(WeightTensor t, Arena arena, Map<WeightTensor, WeightTensor> done) {
        WeightTensor seen = done.get(t);
        if (seen != null) {
            return seen; // NOTE: a tied LM head stays the embedding, as on the CUDA side
        }
        long n = t.elementCount();
        float[] values = new float[Math.toIntExact(n)];
        Dequantizer.dequantize(t.dtype(), t.data(), 0, values, 0, values.length);
        MemorySegment data = arena.allocate(2 * n, 2);
        Bf16.pack(values, 0, data, 0, values.length);
        WeightTensor r = new WeightTensor(t.name(), DType.BF16, t.shape(), data);
        done.put(t, r);
        return r;
    }
}
