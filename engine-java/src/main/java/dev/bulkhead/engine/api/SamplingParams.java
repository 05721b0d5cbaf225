package dev.bulkhead.engine.api;

import dev.bulkhead.engine.InvalidRequestException;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * How one request picks its tokens and when it stops, with vLLM's names and semantics.
 *
 * @param temperature softmax temperature in [0, {@value #MAX_TEMPERATURE}]; below {@link #GREEDY_TEMPERATURE}
 *                    (0 included) sampling is greedy (argmax, lowest id on ties), as in vLLM
 * @param topK keep the {@code topK} largest logits (ties with the k-th value are kept, like transformers);
 *             0 or -1 turn it off (-1 is stored as 0); 1 is greedy
 * @param topP nucleus sampling in (0, 1]: keep the smallest prefix of tokens, by descending probability,
 *             whose mass reaches {@code topP}; 1 turns it off
 * @param minP in [0, 1]: drop tokens whose probability is below {@code minP} times the top token's; 0 is off
 * @param repetitionPenalty > 0, 1 is off; transformers' rule over tokens of the prompt and the output: a
 *                          positive logit is divided by it, a negative one multiplied
 * @param presencePenalty in [-2, 2], OpenAI's rule: subtracted once from the logit of every token already in
 *                        the output (prompt tokens do not count)
 * @param frequencyPenalty in [-2, 2], OpenAI's rule: subtracted from a token's logit once per time it occurs in
 *                         the output
 * @param seed seed of the request's own random generator (same seed, same logits: same tokens); null draws a
 *             fresh random seed
 * @param maxTokens how many tokens to generate at most, >= 1
 * @param stopTokenIds extra token ids that end the request (finish reason STOP); the model's EOS ids are added
 *                     unless {@code ignoreEos}; at most {@value #MAX_STOP_TOKEN_IDS}, each >= 0
 * @param stop stop strings: at most {@value #MAX_STOP_STRINGS}, each 1 to {@value #MAX_STOP_STRING_LENGTH}
 *             chars; the output is cut where the first one begins
 * @param ignoreEos keep generating past the model's EOS (for benchmarks); stop token ids still apply
 * @param includeStopStringInOutput keep the matched stop string (or the stop token's text) in the output
 * @param skipSpecialTokens drop special tokens (BOS, EOS, chat markers) from the detokenized text
 * @param logprobs {@link #LOGPROBS_OFF} for none, 0 for the chosen token's log-probability only, n in
 *                 [1, {@value #MAX_LOGPROBS}] for it and the n most likely alternatives
 * @param guidedDecoding OpenAI's {@code response_format}: null for free text, else the JSON the output must
 *                       form (see {@link GuidedDecoding}); an invalid or unsupported schema is rejected when
 *                       the {@link GuidedDecoding.JsonSchema} is made, with field {@code response_format}
 */
public record SamplingParams(
        float temperature,
        int topK,
        float topP,
        float minP,
        float repetitionPenalty,
        float presencePenalty,
        float frequencyPenalty,
        Long seed,
        int maxTokens,
        int[] stopTokenIds,
        List<String> stop,
        boolean ignoreEos,
        boolean includeStopStringInOutput,
        boolean skipSpecialTokens,
        int logprobs,
        GuidedDecoding guidedDecoding) {

    /** Largest accepted temperature; beyond it the distribution is uniform for every practical purpose. */
    public static final float MAX_TEMPERATURE = 100f;
    /** Temperatures below this are treated as greedy, like vLLM's {@code _SAMPLING_EPS}. */
    public static final float GREEDY_TEMPERATURE = 1e-5f;
    /** Bound on penalties, as in OpenAI's API. */
    public static final float MAX_PENALTY = 2f;
    /** Bound on the number of stop strings; matching cost grows with it on every token. */
    public static final int MAX_STOP_STRINGS = 16;
    /** Bound on the length of one stop string, in UTF-16 chars; withheld text never exceeds it. */
    public static final int MAX_STOP_STRING_LENGTH = 256;
    /** Bound on the number of stop token ids. */
    public static final int MAX_STOP_TOKEN_IDS = 128;
    /** Most alternatives reported per token, vLLM's default {@code max_logprobs}. */
    public static final int MAX_LOGPROBS = 20;
    /** Value of {@code logprobs} that turns log-probabilities off. */
    public static final int LOGPROBS_OFF = -1;
    /** vLLM's default {@code max_tokens}. */
    public static final int DEFAULT_MAX_TOKENS = 16;

    /** Validates every field; messages name the field, its limit and the value given. */
    public SamplingParams {
        if (!(temperature >= 0 && temperature <= MAX_TEMPERATURE)) {
            throw new InvalidRequestException("temperature", "temperature must be in [0, " + MAX_TEMPERATURE + "], got " + temperature);
        }
        if (topK < -1) {
            throw new InvalidRequestException("top_k", "top_k must be -1 or 0 (off) or >= 1, got " + topK);
        }
        topK = Math.max(topK, 0);
        if (!(topP > 0 && topP <= 1)) {
            throw new InvalidRequestException("top_p", "top_p must be in (0, 1], got " + topP);
        }
        if (!(minP >= 0 && minP <= 1)) {
            throw new InvalidRequestException("min_p", "min_p must be in [0, 1], got " + minP);
        }
        if (!(repetitionPenalty > 0 && repetitionPenalty <= Float.MAX_VALUE)) {
            throw new InvalidRequestException("repetition_penalty", "repetition_penalty must be > 0 and finite, got " + repetitionPenalty);
        }
        checkPenalty("presence_penalty", presencePenalty);
        checkPenalty("frequency_penalty", frequencyPenalty);
        if (maxTokens < 1) {
            throw new InvalidRequestException("max_tokens", "max_tokens must be >= 1, got " + maxTokens);
        }
        Objects.requireNonNull(stopTokenIds, "stop_token_ids must not be null (use an empty array)");
        if (stopTokenIds.length > MAX_STOP_TOKEN_IDS) {
            throw new InvalidRequestException("stop_token_ids", "stop_token_ids must hold at most " + MAX_STOP_TOKEN_IDS
                    + " ids, got " + stopTokenIds.length);
        }
        for (int id : stopTokenIds) {
            if (id < 0) {
                throw new InvalidRequestException("stop_token_ids", "stop_token_ids must be >= 0, got " + id);
            }
        }
        stopTokenIds = stopTokenIds.clone();
        Objects.requireNonNull(stop, "stop must not be null (use an empty list)");
        if (stop.size() > MAX_STOP_STRINGS) {
            throw new InvalidRequestException("stop", "stop must hold at most " + MAX_STOP_STRINGS + " strings, got "
                    + stop.size());
        }
        for (String s : stop) {
            if (s == null || s.isEmpty() || s.length() > MAX_STOP_STRING_LENGTH) {
                throw new InvalidRequestException("stop", "stop strings must be 1 to " + MAX_STOP_STRING_LENGTH
                        + " chars long, got " + (s == null ? "null" : s.length() + " chars"));
            }
        }
        stop = List.copyOf(stop);
        if (logprobs < LOGPROBS_OFF || logprobs > MAX_LOGPROBS) {
            throw new InvalidRequestException("logprobs", "logprobs must be in [" + LOGPROBS_OFF + ", " + MAX_LOGPROBS
                    + "] (" + LOGPROBS_OFF + " = off), got " + logprobs);
        }
    }

    private static void checkPenalty(String field, float value) {
        if (!(value >= -MAX_PENALTY && value <= MAX_PENALTY)) {
            throw new InvalidRequestException(field, field + " must be in [-" + MAX_PENALTY + ", " + MAX_PENALTY
                    + "], got " + value);
        }
    }

    /** vLLM's defaults: temperature 1, no truncation, no penalties, random seed, 16 tokens. */
    public static SamplingParams defaults() {
        return builder().build();
    }

    /** Greedy decoding of at most {@code maxTokens} tokens. */
    public static SamplingParams greedy(int maxTokens) {
        return builder().temperature(0).maxTokens(maxTokens).build();
    }

    /** A builder starting from {@link #defaults()}. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from these values. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** True when the sampler takes the argmax and never touches its random generator. */
    public boolean isGreedy() {
        return temperature < GREEDY_TEMPERATURE || topK == 1;
    }

    /** A copy of the stop token ids (the record keeps its own copy). */
    @Override
    public int[] stopTokenIds() {
        return stopTokenIds.clone();
    }

    /** True when {@code tokenId} is one of {@link #stopTokenIds()}, without copying them. */
    public boolean isStopTokenId(int tokenId) {
        for (int id : stopTokenIds) {
            if (id == tokenId) {
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SamplingParams p
                && Float.compare(temperature, p.temperature) == 0 && topK == p.topK
                && Float.compare(topP, p.topP) == 0 && Float.compare(minP, p.minP) == 0
                && Float.compare(repetitionPenalty, p.repetitionPenalty) == 0
                && Float.compare(presencePenalty, p.presencePenalty) == 0
                && Float.compare(frequencyPenalty, p.frequencyPenalty) == 0
                && Objects.equals(seed, p.seed) && maxTokens == p.maxTokens
                && Arrays.equals(stopTokenIds, p.stopTokenIds) && stop.equals(p.stop)
                && ignoreEos == p.ignoreEos && includeStopStringInOutput == p.includeStopStringInOutput
                && skipSpecialTokens == p.skipSpecialTokens && logprobs == p.logprobs
                && Objects.equals(guidedDecoding, p.guidedDecoding);
    }

    @Override
    public int hashCode() {
        return Objects.hash(temperature, topK, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty,
                seed, maxTokens, Arrays.hashCode(stopTokenIds), stop, ignoreEos, includeStopStringInOutput,
                skipSpecialTokens, logprobs, guidedDecoding);
    }

    @Override
    public String toString() {
        return "SamplingParams[temperature=" + temperature + ", topK=" + topK + ", topP=" + topP + ", minP=" + minP
                + ", repetitionPenalty=" + repetitionPenalty + ", presencePenalty=" + presencePenalty
                + ", frequencyPenalty=" + frequencyPenalty + ", seed=" + seed + ", maxTokens=" + maxTokens
                + ", stopTokenIds=" + Arrays.toString(stopTokenIds) + ", stop=" + stop + ", ignoreEos=" + ignoreEos
                + ", includeStopStringInOutput=" + includeStopStringInOutput
                + ", skipSpecialTokens=" + skipSpecialTokens + ", logprobs=" + logprobs
                + ", guidedDecoding=" + guidedDecoding + "]";
    }

    /** Mutable builder; {@link #build()} validates. */
    public static final class Builder {
        private float temperature = 1f;
        private int topK;
        private float topP = 1f;
        private float minP;
        private float repetitionPenalty = 1f;
        private float presencePenalty;
        private float frequencyPenalty;
        private Long seed;
        private int maxTokens = DEFAULT_MAX_TOKENS;
        private int[] stopTokenIds = new int[0];
        private List<String> stop = List.of();
        private boolean ignoreEos;
        private boolean includeStopStringInOutput;
        private boolean skipSpecialTokens = true;
        private int logprobs = LOGPROBS_OFF;
        private GuidedDecoding guidedDecoding;

        private Builder() {
        }

        private Builder(SamplingParams p) {
            temperature = p.temperature;
            topK = p.topK;
            topP = p.topP;
            minP = p.minP;
            repetitionPenalty = p.repetitionPenalty;
            presencePenalty = p.presencePenalty;
            frequencyPenalty = p.frequencyPenalty;
            seed = p.seed;
            maxTokens = p.maxTokens;
            stopTokenIds = p.stopTokenIds;
            stop = p.stop;
            ignoreEos = p.ignoreEos;
            includeStopStringInOutput = p.includeStopStringInOutput;
            skipSpecialTokens = p.skipSpecialTokens;
            logprobs = p.logprobs;
            guidedDecoding = p.guidedDecoding;
        }

        /** See {@link SamplingParams#temperature()}. */
        public Builder temperature(float v) {
            temperature = v;
            return this;
        }

        /** See {@link SamplingParams#topK()}. */
        public Builder topK(int v) {
            topK = v;
            return this;
        }

        /** See {@link SamplingParams#topP()}. */
        public Builder topP(float v) {
            topP = v;
            return this;
        }

        /** See {@link SamplingParams#minP()}. */
        public Builder minP(float v) {
            minP = v;
            return this;
        }

        /** See {@link SamplingParams#repetitionPenalty()}. */
        public Builder repetitionPenalty(float v) {
            repetitionPenalty = v;
            return this;
        }

        /** See {@link SamplingParams#presencePenalty()}. */
        public Builder presencePenalty(float v) {
            presencePenalty = v;
            return this;
        }

        /** See {@link SamplingParams#frequencyPenalty()}. */
        public Builder frequencyPenalty(float v) {
            frequencyPenalty = v;
            return this;
        }

        /** See {@link SamplingParams#seed()}; null for a random seed. */
        public Builder seed(Long v) {
            seed = v;
            return this;
        }

        /** See {@link SamplingParams#maxTokens()}. */
        public Builder maxTokens(int v) {
            maxTokens = v;
            return this;
        }

        /** See {@link SamplingParams#stopTokenIds()}. */
        public Builder stopTokenIds(int... v) {
            stopTokenIds = v;
            return this;
        }

        /** See {@link SamplingParams#stop()}. */
        public Builder stop(List<String> v) {
            stop = v;
            return this;
        }

        /** See {@link SamplingParams#stop()}. */
        public Builder stop(String... v) {
            stop = Arrays.asList(v);
            return this;
        }

        /** See {@link SamplingParams#ignoreEos()}. */
        public Builder ignoreEos(boolean v) {
            ignoreEos = v;
            return this;
        }

        /** See {@link SamplingParams#includeStopStringInOutput()}. */
        public Builder includeStopStringInOutput(boolean v) {
            includeStopStringInOutput = v;
            return this;
        }

        /** See {@link SamplingParams#skipSpecialTokens()}. */
        public Builder skipSpecialTokens(boolean v) {
            skipSpecialTokens = v;
            return this;
        }

        /** See {@link SamplingParams#logprobs()}. */
        public Builder logprobs(int v) {
            logprobs = v;
            return this;
        }

        /** See {@link SamplingParams#guidedDecoding()}; null for free text. */
        public Builder guidedDecoding(GuidedDecoding v) {
            guidedDecoding = v;
            return this;
        }

        /** Validates and builds. */
        public SamplingParams build() {
            return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, presencePenalty,
                    frequencyPenalty, seed, maxTokens, stopTokenIds, stop, ignoreEos, includeStopStringInOutput,
                    skipSpecialTokens, logprobs, guidedDecoding);
        }
    }
}
