package dev.bulkhead.model.llama2c;

import dev.bulkhead.model.ModelFormatException;
import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.config.ModelFamily;
import dev.bulkhead.model.config.RopeScaling;
import dev.bulkhead.model.config.RopeStyle;
import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.MappedFile;
import dev.bulkhead.model.tensor.WeightSource;
import dev.bulkhead.model.tensor.WeightTensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A legacy llama2.c checkpoint ({@code run.c}'s format), memory-mapped and served zero-copy under Hugging Face
 * tensor names: each layer's weights are slices of llama2.c's stacked arrays, {@code w1/w3/w2} become
 * {@code gate_proj/up_proj/down_proj}. The q/k rows stay in llama2.c's order, so the config says
 * {@link RopeStyle#INTERLEAVED} (run.c rotates adjacent pairs); no {@code lm_head.weight} is served when the
 * classifier is shared, as in a tied Hugging Face checkpoint.
 */
public final class Llama2cCheckpoint implements WeightSource {

    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final Arena arena;
    private final Llama2cHeader header;
    private final ModelConfig config;
    private final Map<String, WeightTensor> tensors;

    private Llama2cCheckpoint(Path file, Arena arena, Llama2cHeader header, Map<String, WeightTensor> tensors) {
        this.file = file;
        this.arena = arena;
        this.header = header;
        this.tensors = tensors;
        this.config = toConfig(header);
    }

    /**
     * Maps {@code bin} and checks that its size is exactly what the header implies.
     *
     * @throws ModelFormatException naming the file for an unreadable file, a bad header or a wrong size
     */
    public static Llama2cCheckpoint open(Path bin) {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment mapped;
            try (FileChannel ch = FileChannel.open(bin, StandardOpenOption.READ)) {
                if (ch.size() < Llama2cHeader.BYTES) {
                    throw new ModelFormatException(bin, "truncated: " + ch.size() + " bytes, shorter than the "
                            + Llama2cHeader.BYTES + "-byte llama2.c header");
                }
                mapped = MappedFile.mapReadOnly(ch, arena);
            }
            int[] raw = new int[7];
            for (int i = 0; i < raw.length; i++) {
                raw[i] = mapped.get(INT_LE, (long) i * Integer.BYTES);
            }
            Llama2cHeader header = Llama2cHeader.parse(bin, raw);
            if (mapped.byteSize() != header.fileSize()) {
                throw new ModelFormatException(bin, "size is " + mapped.byteSize() + " bytes but the header " + header
                        + " implies " + header.fileSize() + " bytes ("
                        + (mapped.byteSize() < header.fileSize() ? "truncated" : "trailing data") + ")");
            }
            return new Llama2cCheckpoint(bin, arena, header, layout(header, mapped.asSlice(Llama2cHeader.BYTES)));
        } catch (IOException e) {
            arena.close();
            throw new ModelFormatException(bin, "cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Slices the float section in run.c's {@code memory_map_weights} order. */
    private static Map<String, WeightTensor> layout(Llama2cHeader h, MemorySegment floats) {
        long dim = h.dim();
        long kvDim = h.kvDim();
        long hidden = h.hiddenDim();
        int layers = h.numLayers();
        Cursor c = new Cursor(floats);
        Map<String, WeightTensor> t = new LinkedHashMap<>();
        WeightTensor embed = c.take("model.embed_tokens.weight", h.vocabSize(), dim);
        t.put(embed.name(), embed);
        c.stacked(t, layers, "input_layernorm.weight", dim);          // rms_att_weight (layer, dim)
        c.stacked(t, layers, "self_attn.q_proj.weight", dim, dim);    // wq (layer, dim, n_heads * head_size)
        c.stacked(t, layers, "self_attn.k_proj.weight", kvDim, dim);  // wk (layer, dim, kv_dim)
        c.stacked(t, layers, "self_attn.v_proj.weight", kvDim, dim);  // wv (layer, dim, kv_dim)
        c.stacked(t, layers, "self_attn.o_proj.weight", dim, dim);    // wo (layer, n_heads * head_size, dim)
        c.stacked(t, layers, "post_attention_layernorm.weight", dim); // rms_ffn_weight (layer, dim)
        c.stacked(t, layers, "mlp.gate_proj.weight", hidden, dim);    // w1 (layer, hidden_dim, dim)
        c.stacked(t, layers, "mlp.down_proj.weight", dim, hidden);    // w2 (layer, dim, hidden_dim)
        c.stacked(t, layers, "mlp.up_proj.weight", hidden, dim);      // w3 (layer, hidden_dim, dim)
        WeightTensor norm = c.take("model.norm.weight", dim);         // rms_final_weight (dim)
        t.put(norm.name(), norm);
        c.skip((long) h.seqLen() * h.headSize());                    // freq_cis_real and _imag, unused
        if (!h.sharedClassifier()) {
            WeightTensor wcls = c.take("lm_head.weight", h.vocabSize(), dim);
            t.put(wcls.name(), wcls);
        }
        return Collections.unmodifiableMap(t);
    }

    /** Walks the float section front to back. */
    private static final class Cursor {
        private final MemorySegment floats;
        private long offset;

        Cursor(MemorySegment floats) {
            this.floats = floats;
        }

        WeightTensor take(String name, long... shape) {
            long bytes = Float.BYTES * WeightTensor.elementCount(shape);
            WeightTensor w = new WeightTensor(name, DType.F32, shape, floats.asSlice(offset, bytes));
            offset += bytes;
            return w;
        }

        void stacked(Map<String, WeightTensor> out, int layers, String suffix, long... shape) {
            for (int l = 0; l < layers; l++) {
                WeightTensor w = take("model.layers." + l + "." + suffix, shape);
                out.put(w.name(), w);
            }
        }

        void skip(long count) {
            offset += Float.BYTES * count;
        }
    }

    private static ModelConfig toConfig(Llama2cHeader h) {
        // NOTE: run.c hard-codes what the legacy header lacks: eps 1e-5, theta 10000, BOS 1, EOS 2.
        return new ModelConfig(ModelFamily.LLAMA, h.dim(), h.hiddenDim(), h.numLayers(), h.numHeads(), h.numKvHeads(),
                h.headSize(), h.vocabSize(), h.seqLen(), 1e-5f, 10000.0, RopeScaling.NONE, RopeStyle.INTERLEAVED,
                h.sharedClassifier(), false, false, 0, h.vocabSize() > 1 ? 1 : -1,
                h.vocabSize() > 2 ? new int[] {2} : new int[0], DType.F32);
    }

    /** The header as read from the file. */
    public Llama2cHeader header() {
        return header;
    }

    /** The model configuration implied by the header and run.c's fixed choices. */
    public ModelConfig config() {
        return config;
    }

    @Override
    public Path origin() {
        return file;
    }

    @Override
    public Optional<WeightTensor> find(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "llama2.c " + file + " " + config;
    }
}
