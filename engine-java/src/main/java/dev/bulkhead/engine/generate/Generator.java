package dev.bulkhead.engine.generate;

import dev.bulkhead.engine.runner.BatchInput;
import dev.bulkhead.engine.runner.ModelRunner;
import dev.bulkhead.scheduler.FinishReason;
import dev.bulkhead.engine.sampling.IncrementalDetokenizer;
import dev.bulkhead.engine.sampling.Sampler;
import dev.bulkhead.engine.sampling.SamplingParams;
import dev.bulkhead.engine.sampling.StopChecker;
import dev.bulkhead.engine.sampling.StopResult;
import dev.bulkhead.engine.sampling.TokenHistory;
import dev.bulkhead.model.LoadedModel;
import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * Generates for one request at a time on a runner whose KV cache it owns: chunked prefill, then one decode
 * step per token, streaming text as it becomes stable. The multi-request engine replaces this with a
 * scheduler over the same {@link ModelRunner} and {@link BatchInput}.
 */
public final class Generator {

    private final ModelConfig config;
    private final Tokenizer tokenizer;
    private final ModelRunner runner;
    private final int[] blockTable;
    private final int contextLength;
    private final int[] eosIds;

    public Generator(LoadedModel model, ModelRunner runner) {
        this.config = model.config();
        this.tokenizer = model.tokenizer();
        this.runner = runner;
        this.blockTable = IntStream.range(0, runner.numBlocks()).toArray();
        this.contextLength = Math.min(runner.numBlocks() * runner.blockSize(), config.maxPositionEmbeddings());
        int tokEos = tokenizer.eosId();
        int[] eos = config.eosTokenIds();
        this.eosIds = tokEos >= 0 && Arrays.stream(eos).noneMatch(e -> e == tokEos)
                ? IntStream.concat(Arrays.stream(eos), IntStream.of(tokEos)).toArray() : eos;
    }

    /** Tokens this generator can hold: prompt plus output. */
    public int contextLength() {
        return contextLength;
    }

    /**
     * Runs {@code promptIds} and samples until a stop condition, passing each stable piece of text to
     * {@code onText} as it is produced.
     *
     * @throws IllegalArgumentException when the prompt is empty, holds unknown ids or does not fit the context
     */
    public GenerationResult generate(int[] promptIds, SamplingParams params, Consumer<String> onText) {
        validate(promptIds);
        Sampler sampler = new Sampler(params);
        TokenHistory history = TokenHistory.ofPrompt(promptIds);
        StopChecker stop = new StopChecker(params, eosIds,
                new IncrementalDetokenizer(tokenizer, promptIds, params.skipSpecialTokens()));
        int vocab = config.vocabSize();
        int[] out = new int[Math.min(params.maxTokens(), contextLength - promptIds.length)];
        int produced = 0;

        long t0 = System.nanoTime();
        float[] logits = prefill(promptIds);
        int token = sampler.sample(logits, 0, vocab, history);
        long t1 = System.nanoTime();
        FinishReason reason = null;
        while (true) {
            out[produced++] = token;
            history.addOutput(token);
            StopResult r = stop.append(token);
            if (!r.text().isEmpty()) {
                onText.accept(r.text());
            }
            if (r.finished()) {
                reason = r.finishReason();
                break;
            }
            if (produced == out.length) {
                // NOTE: the context is full before max_tokens; report it as a length stop, as vLLM does.
                reason = FinishReason.LENGTH;
                break;
            }
            int pos = promptIds.length + produced - 1;
            logits = runner.forward(BatchInput.single(new int[] {token}, pos, blockTable));
            token = sampler.sample(logits, 0, vocab, history);
        }
        long t2 = System.nanoTime();
        Timings timings = new Timings(promptIds.length, (t1 - t0) / 1e6, produced - 1, (t2 - t1) / 1e6);
        return new GenerationResult(promptIds, Arrays.copyOf(out, produced), stop.outputText(), reason, timings);
    }

    private float[] prefill(int[] promptIds) {
        int chunk = runner.maxBatchTokens();
        float[] logits = null;
        for (int start = 0; start < promptIds.length; start += chunk) {
            int end = Math.min(promptIds.length, start + chunk);
            logits = runner.forward(BatchInput.single(Arrays.copyOfRange(promptIds, start, end), start, blockTable));
        }
        return logits;
    }

    private void validate(int[] promptIds) {
        if (promptIds.length == 0) {
            throw new IllegalArgumentException("prompt is empty: it needs at least one token");
        }
        if (promptIds.length >= contextLength) {
            throw new IllegalArgumentException("prompt has " + promptIds.length + " tokens but the context holds "
                    + contextLength + " (prompt plus at least one generated token must fit; raise --context up to "
                    + "max_position_embeddings " + config.maxPositionEmbeddings() + ")");
        }
        for (int id : promptIds) {
            if (id < 0 || id >= config.vocabSize()) {
                throw new IllegalArgumentException("prompt token id " + id + " is outside the vocabulary [0, "
                        + config.vocabSize() + ")");
            }
        }
    }
}
