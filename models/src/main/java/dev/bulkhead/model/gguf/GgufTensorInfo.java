package dev.bulkhead.model.gguf;

import dev.bulkhead.model.tensor.DType;
import java.util.Arrays;

/**
 * One tensor entry of a GGUF file.
 *
 * @param name       the llama.cpp name as stored ({@code blk.0.attn_q.weight})
 * @param type       storage type
 * @param shape      row-major shape, outermost first (GGUF stores dims innermost first; this is reversed)
 * @param dataOffset byte offset from the start of the data section
 * @param byteSize   bytes the tensor occupies
 */
public record GgufTensorInfo(String name, DType type, long[] shape, long dataOffset, long byteSize) {

    public GgufTensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo t && t.name.equals(name) && t.type == type
                && Arrays.equals(t.shape, shape) && t.dataOffset == dataOffset && t.byteSize == byteSize;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(shape) + " @" + dataOffset;
    }
}
