package dev.bulkhead.model.arch;

import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.tensor.WeightTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

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
        return distinctTensors().stream().mapToLong(t -> t.data().byteSize()).sum();
    }

    /** Every tensor once (a tied LM head is the embedding), embedding first and LM head last. */
    public List<WeightTensor> distinctTensors() {
        Set<WeightTensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<WeightTensor> out = new ArrayList<>();
        List<WeightTensor> ordered = new ArrayList<>();
        ordered.add(embedding);
        for (LayerWeights l : layers) {
            ordered.addAll(Arrays.asList(l.inputNorm(), l.wq(), l.wk(), l.wv(), l.wo(), l.bq(), l.bk(), l.bv(),
                    l.qNorm(), l.kNorm(), l.postAttnNorm(), l.gate(), l.up(), l.down()));
        }
        ordered.add(finalNorm);
        ordered.add(lmHead);
        for (WeightTensor t : ordered) {
            if (t != null && seen.add(t)) {
                out.add(t);
            }
        }
        return out;
    }
}
