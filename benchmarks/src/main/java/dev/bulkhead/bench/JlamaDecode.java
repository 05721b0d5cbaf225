package dev.bulkhead.bench;

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.KvBufferCache;
import com.github.tjake.jlama.tensor.operations.TensorOperationsProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;

/**
 * The same greedy decode on Jlama, through its public per-token API ({@code forward} then {@code sample} at
 * temperature 0, the body of its own {@code generate} loop without the detokenizing and the EOS stop, so
 * every run decodes exactly as many tokens as Bulkhead's).
 *
 * <p>Run it in a JVM of its own ({@link DecodeChild}): Jlama's thread pool is a process-wide singleton sized
 * once, and each engine deserves a clean heap and JIT profile.
 */
public final class JlamaDecode {

    private JlamaDecode() {
    }

    public static DecodeResult run(DecodeSpec spec) {
        // NOTE: Jlama computes in F32 working memory; a BF16 model keeps its activations quantized to BF16
        // (Jlama forces this itself); the F32 model stays F32 throughout. The thread count goes to its
        // PhysicalCoreExecutor, which every parallel op in Jlama runs on.
        DType quantized = spec.dtype().equals("bf16") ? DType.BF16 : DType.F32;
        AbstractModel model = ModelSupport.loadModel(spec.modelDir().toFile(), null, DType.F32, quantized,
                Optional.empty(), Optional.of(spec.threads()));
        try (KvBufferCache caches = new KvBufferCache(model)) {
            int vocab = model.getConfig().vocabularySize;
            int first = model.getConfig().bosToken;
            for (int i = 0; i < spec.warmupRuns(); i++) {
                decode(model, caches, vocab, first, spec.positions());
            }
            List<Double> seconds = new ArrayList<>();
            for (int i = 0; i < spec.runs(); i++) {
                seconds.add(decode(model, caches, vocab, first, spec.positions()));
            }
            String ops = TensorOperationsProvider.get().name();
            return new DecodeResult("jlama", spec.dtype(), spec.threads(), spec.tokens(), seconds,
                    String.format(Locale.ROOT, "Jlama 0.8.4, %s, weights %s, working %s", ops,
                            model.getWeights().getModelDType(), model.getWorkingDType()));
        }
    }

    private static double decode(AbstractModel model, KvBufferCache caches, int vocab, int firstToken, int positions) {
        int token = firstToken;
        long start = 0;
        try (KvBufferCache.KvBuffer kv = caches.getKvBuffer(UUID.randomUUID());
             AbstractTensor<?, ?> logits = model.makeDenseTensor(vocab)) {
            for (int pos = 0; pos < positions; pos++) {
                if (pos == 1) {
                    start = System.nanoTime();
                }
                try (AbstractTensor<?, ?> out = model.forward(token, pos, kv, Optional.empty())) {
                    token = model.sample(out, 0f, 0f, logits);
                }
            }
            return (System.nanoTime() - start) / 1e9;
        }
    }
}
