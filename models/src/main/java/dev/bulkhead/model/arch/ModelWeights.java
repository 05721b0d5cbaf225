package dev.bulkhead.model.arch;

import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.tensor.WeightTensor;
import java.util.List;

/**
 * Every tensor a decoder-only model needs, bound to a config and checked against it.
 *
 * @param config      the model's config
 * @param embedding   (vocab, hidden)
 * @param layers      one entry per decoder block
 * @param finalNorm   (hidden)
 * @param lmHead      (vocab, hidden); the embedding itself when tied
 */
public record ModelWeights(ModelConfig config, WeightTensor embedding, List<LayerWeights> layers,
                           WeightTensor finalNorm, WeightTensor lmHead) {

    public ModelWeights {
        layers = List.copyOf(layers);
    }

    /** Bytes of all distinct weight tensors (the tied LM head counted once): what one decode step streams. */
    public long byteSize() {
        long n = embedding.data().byteSize() + finalNorm.data().byteSize();
        if (lmHead != embedding) {
            n += lmHead.data().byteSize();
        }
        for (LayerWeights l : layers) {
            for (WeightTensor t : new WeightTensor[] {l.inputNorm(), l.wq(), l.wk(), l.wv(), l.wo(), l.bq(), l.bk(),
                    l.bv(), l.qNorm(), l.kNorm(), l.postAttnNorm(), l.gate(), l.up(), l.down()}) {
                if (t != null) {
                    n += t.data().byteSize();
                }
            }
        }
        return n;
    }
}
