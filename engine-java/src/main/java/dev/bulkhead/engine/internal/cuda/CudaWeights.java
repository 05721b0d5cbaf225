package dev.bulkhead.engine.internal.cuda;

import dev.bulkhead.ffi.CudaContext;
import dev.bulkhead.ffi.CudaMemory;
import dev.bulkhead.ffi.DevicePtr;
import dev.bulkhead.model.arch.LayerWeights;
import dev.bulkhead.model.arch.ModelWeights;
import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.Dequantizer;
import dev.bulkhead.model.tensor.WeightTensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * A model's weights on the device: projections as bf16 (q/k/v fused into one matrix, gate/up into another,
 * so each is one GEMM), norms and biases as f32. Any stored type is dequantized on the host in row chunks
 * (GGUF quantized types through {@link Dequantizer}) and copied through one pinned staging buffer.
 *
 * @param embedding (vocab, hidden) bf16
 * @param layers    one per decoder block
 * @param finalNorm (hidden) f32
 * @param lmHead    (vocab, hidden) bf16; the embedding's pointer when tied
 */
record CudaWeights(DevicePtr embedding, List<Layer> layers, DevicePtr finalNorm, DevicePtr lmHead) {

    /**
     * One decoder block on the device.
     *
     * @param inputNorm (hidden) f32
     * @param wqkv      (qDim + 2 kvDim, hidden) bf16: wq rows, then wk, then wv
     * @param qkvBias   (qDim + 2 kvDim) f32, or NULL (Qwen2 only)
     * @param qNorm     (headDim) f32, or NULL (Qwen3 only)
     * @param kNorm     (headDim) f32, or NULL
     * @param wo        (hidden, qDim) bf16
     * @param postNorm  (hidden) f32
     * @param wGateUp   (2 ffn, hidden) bf16: gate rows, then up
     * @param wDown     (hidden, ffn) bf16
     */
    record Layer(DevicePtr inputNorm, DevicePtr wqkv, DevicePtr qkvBias, DevicePtr qNorm, DevicePtr kNorm,
                 DevicePtr wo, DevicePtr postNorm, DevicePtr wGateUp, DevicePtr wDown) {
    }

    private static final int CHUNK = 1 << 20;

    /** Uploads every tensor of {@code w} into {@code ctx} (which owns and frees the memory). */
    static CudaWeights upload(CudaContext ctx, ModelWeights w) {
        Uploader up = new Uploader(ctx);
        ModelConfig c = w.config();
        DevicePtr emb = up.bf16(w.embedding());
        DevicePtr head = w.lmHead() == w.embedding() ? emb : up.bf16(w.lmHead());
        List<Layer> layers = w.layers().stream().map(l -> layer(up, l)).toList();
        if (layers.size() != c.numLayers()) {
            throw new IllegalArgumentException("config has " + c.numLayers() + " layers, weights " + layers.size());
        }
        return new CudaWeights(emb, layers, up.f32(w.finalNorm()), head);
    }

    private static Layer layer(Uploader up, LayerWeights l) {
        return new Layer(up.f32(l.inputNorm()), up.bf16(l.wq(), l.wk(), l.wv()),
                l.bq() == null ? DevicePtr.NULL : up.f32(l.bq(), l.bk(), l.bv()),
                l.qNorm() == null ? DevicePtr.NULL : up.f32(l.qNorm()),
                l.kNorm() == null ? DevicePtr.NULL : up.f32(l.kNorm()),
                up.bf16(l.wo()), up.f32(l.postAttnNorm()), up.bf16(l.gate(), l.up()), up.bf16(l.down()));
    }

    /** Host-side conversion and copy, one chunk of rows at a time. */
    private static final class Uploader {
        private final CudaContext ctx;
        private final MemorySegment staging; // (CHUNK) floats of pinned memory, reused for every chunk
        private float[] floats = new float[CHUNK];

        Uploader(CudaContext ctx) {
            this.ctx = ctx;
            this.staging = ctx.pinned(4L * CHUNK);
        }

        /** The row-wise concatenation of {@code parts} (same column count) as one bf16 matrix. */
        DevicePtr bf16(WeightTensor... parts) {
            return upload(2, parts);
        }

        /** The concatenation of {@code parts} as one f32 array. */
        DevicePtr f32(WeightTensor... parts) {
            return upload(4, parts);
        }

        private DevicePtr upload(int bytesPerElement, WeightTensor... parts) {
            long total = 0;
            for (WeightTensor t : parts) {
                total += t.elementCount();
            }
            DevicePtr base = ctx.alloc(total * bytesPerElement).ptr();
            long at = 0;
            for (WeightTensor t : parts) {
                if (bytesPerElement == 2 && t.dtype() == DType.BF16) {
                    // NOTE: already what the device holds: copied as it is, not widened to f32 and rounded back.
                    copyRaw(t.data(), base.plus(at * 2));
                    at += t.elementCount();
                    continue;
                }
                int cols = t.cols();
                if (cols > floats.length) {
                    floats = new float[cols];
                }
                long rows = t.elementCount() / cols;
                int rowsPerChunk = Math.max(1, Math.min(CHUNK, floats.length) / cols);
                for (long r = 0; r < rows; r += rowsPerChunk) {
                    int n = (int) (Math.min(rowsPerChunk, rows - r) * cols);
                    Dequantizer.dequantize(t.dtype(), t.data(), t.dtype().byteSize(r * cols), floats, 0, n);
                    copy(floats, n, bytesPerElement, base.plus(at * bytesPerElement));
                    at += n;
                }
            }
            return base;
        }

        /** Copies {@code src} (host, pageable or mapped) to {@code dst} through the pinned staging buffer. */
        private void copyRaw(MemorySegment src, DevicePtr dst) {
            long chunk = staging.byteSize();
            for (long off = 0; off < src.byteSize(); off += chunk) {
                long m = Math.min(chunk, src.byteSize() - off);
                MemorySegment.copy(src, off, staging, 0, m);
                CudaMemory.copyHtoD(dst.plus(off), staging, m);
            }
        }

        private void copy(float[] src, int n, int bytesPerElement, DevicePtr dst) {
            // NOTE: the staging buffer holds CHUNK floats; a row longer than that goes in pieces.
            for (int off = 0; off < n; off += CHUNK) {
                int m = Math.min(CHUNK, n - off);
                if (bytesPerElement == 2) {
                    Bf16.pack(src, off, staging, 0, m);
                } else {
                    MemorySegment.copy(src, off, staging, ValueLayout.JAVA_FLOAT, 0, m);
                }
                CudaMemory.copyHtoD(dst.plus((long) off * bytesPerElement), staging, (long) m * bytesPerElement);
            }
        }
    }
}
