package dev.bulkhead.bench;

import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.hf.HfConfigReader;
import dev.bulkhead.model.safetensors.SafetensorsWeightSource;
import dev.bulkhead.model.tensor.Dequantizer;
import dev.bulkhead.model.tensor.WeightTensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes a Hugging Face Llama checkpoint as a legacy (version 0) llama2.c {@code .bin}, the file karpathy's
 * {@code run.c} reads: seven little-endian int32 header values, then every tensor as float32 in run.c's
 * order, stacked over layers. Linear weights are {@code [out, in]} in both formats, so rows copy as they
 * are. The q/k rows are not permuted back from Hugging Face's NEOX RoPE layout to run.c's interleaved one:
 * the exported model computes different numbers than the original, but exactly the same amount of work,
 * which is all a speed comparison needs.
 */
public final class Llama2cExporter {

    /** Floats converted and written per chunk. */
    private static final int CHUNK = 1 << 18;

    private Llama2cExporter() {
    }

    /**
     * Exports the checkpoint in {@code hfDir} to {@code bin}.
     *
     * @throws IllegalArgumentException when the model has biases, q/k norms or a sliding window, which run.c
     *                                  cannot express
     */
    public static void export(Path hfDir, Path bin) {
        ModelConfig c = HfConfigReader.read(hfDir.resolve("config.json"));
        if (c.attentionBias() || c.qkNorm() || c.slidingWindow() > 0 || c.headDim() * c.numHeads() != c.hiddenSize()) {
            throw new IllegalArgumentException("llama2.c models have no biases, q/k norms or sliding window and "
                    + "head_dim * num_heads == hidden_size; " + hfDir + " has " + c);
        }
        try (SafetensorsWeightSource w = SafetensorsWeightSource.open(hfDir);
             FileChannel out = FileChannel.open(bin, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.allocate(CHUNK * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            boolean shared = c.tieWordEmbeddings() || w.find("lm_head.weight").isEmpty();
            buf.putInt(c.hiddenSize()).putInt(c.intermediateSize()).putInt(c.numLayers()).putInt(c.numHeads())
                    .putInt(c.numKvHeads()).putInt(shared ? c.vocabSize() : -c.vocabSize())
                    .putInt(c.maxPositionEmbeddings());
            drain(out, buf);
            write(out, buf, w.get("model.embed_tokens.weight"));
            writeStacked(out, buf, w, c, "input_layernorm.weight");
            writeStacked(out, buf, w, c, "self_attn.q_proj.weight");
            writeStacked(out, buf, w, c, "self_attn.k_proj.weight");
            writeStacked(out, buf, w, c, "self_attn.v_proj.weight");
            writeStacked(out, buf, w, c, "self_attn.o_proj.weight");
            writeStacked(out, buf, w, c, "post_attention_layernorm.weight");
            writeStacked(out, buf, w, c, "mlp.gate_proj.weight");   // w1
            writeStacked(out, buf, w, c, "mlp.down_proj.weight");   // w2
            writeStacked(out, buf, w, c, "mlp.up_proj.weight");     // w3
            write(out, buf, w.get("model.norm.weight"));
            writeRopeTables(out, buf, c);
            if (!shared) {
                write(out, buf, w.get("lm_head.weight"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + bin + ": " + e.getMessage(), e);
        }
    }

    private static void writeStacked(FileChannel out, ByteBuffer buf, SafetensorsWeightSource w, ModelConfig c,
                                     String suffix) throws IOException {
        for (int l = 0; l < c.numLayers(); l++) {
            write(out, buf, w.get("model.layers." + l + "." + suffix));
        }
    }

    private static void write(FileChannel out, ByteBuffer buf, WeightTensor t) throws IOException {
        float[] floats = new float[CHUNK];
        long total = t.elementCount();
        long bytesPerElement = t.dtype().byteSize(1);
        for (long done = 0; done < total; done += CHUNK) {
            int n = (int) Math.min(CHUNK, total - done);
            Dequantizer.dequantize(t.dtype(), t.data(), done * bytesPerElement, floats, 0, n);
            buf.asFloatBuffer().put(floats, 0, n);
            buf.position(n * Float.BYTES);
            drain(out, buf);
        }
    }

    /**
     * run.c's legacy {@code freq_cis_real} and {@code freq_cis_imag} tables, (seq_len, head_size / 2) each.
     * run.c skips over them, but a faithful file keeps older readers working.
     */
    private static void writeRopeTables(FileChannel out, ByteBuffer buf, ModelConfig c) throws IOException {
        int half = c.headDim() / 2;
        for (int part = 0; part < 2; part++) {
            for (int pos = 0; pos < c.maxPositionEmbeddings(); pos++) {
                for (int i = 0; i < half; i++) {
                    double angle = pos / Math.pow(c.ropeTheta(), 2.0 * i / c.headDim());
                    if (!buf.hasRemaining()) {
                        drain(out, buf);
                    }
                    buf.putFloat((float) (part == 0 ? Math.cos(angle) : Math.sin(angle)));
                }
            }
        }
        drain(out, buf);
    }

    private static void drain(FileChannel out, ByteBuffer buf) throws IOException {
        buf.flip();
        while (buf.hasRemaining()) {
            out.write(buf);
        }
        buf.clear();
    }
}
