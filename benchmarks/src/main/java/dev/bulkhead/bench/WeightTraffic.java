package dev.bulkhead.bench;

import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.tensor.DType;

/**
 * Bytes of weights one decode step has to stream from memory: every projection of every layer and the
 * classifier, read once per token; the embedding contributes one row and the norms are negligible. At batch
 * size one decode is bound by this traffic, so {@code bytes × tok/s} against the machine's measured read
 * bandwidth says how close an engine is to the hardware limit.
 */
public final class WeightTraffic {

    private WeightTraffic() {
    }

    /** Weight elements read per decoded token (projections, classifier, one embedding row, norms). */
    public static long elementsPerToken(ModelConfig c) {
        long hidden = c.hiddenSize();
        long perLayer = hidden * c.qDim()              // q_proj
                + 2L * hidden * c.kvDim()               // k_proj, v_proj
                + (long) c.qDim() * hidden              // o_proj
                + 3L * hidden * c.intermediateSize()    // gate, up, down
                + 2L * hidden;                          // the two norms
        // NOTE: the classifier is read in full whether or not it is tied to the embedding.
        return c.numLayers() * perLayer + (long) c.vocabSize() * hidden + 2L * hidden;
    }

    /** Bytes of weights read per decoded token when every tensor is stored as {@code dtype}. */
    public static long bytesPerToken(ModelConfig c, DType dtype) {
        return dtype.byteSize(elementsPerToken(c));
    }
}
