package dev.bulkhead.engine;

import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.model.tokenizer.Tokenizer;
import java.time.Duration;
import java.time.Instant;

/** Checks a request against the model and the engine's limits before anything is queued. */
final class RequestValidator {

    private RequestValidator() {
    }

    /** The prompt as token ids: the request's own (range-checked) or its text encoded with BOS. */
    static int[] promptIds(GenerateRequest req, Tokenizer tokenizer, int vocabSize) {
        int[] ids = req.promptTokenIds() != null ? req.promptTokenIds() : tokenizer.encode(req.prompt(), true);
        if (ids.length == 0) {
            throw new InvalidRequestException("prompt", "prompt is empty: it must hold at least one token");
        }
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                throw new InvalidRequestException("prompt_token_ids", "prompt_token_ids[" + i + "] = " + ids[i]
                        + " is outside the vocabulary [0, " + vocabSize + ")");
            }
        }
        return ids;
    }

    /** Prompt plus max_tokens must fit the context and (as one sequence alone) the KV pool. */
    static void checkLength(int promptLen, int maxTokens, int maxModelLen, int kvCapacityTokens) {
        if (promptLen >= maxModelLen) {
            throw new InvalidRequestException("prompt", "prompt has " + promptLen + " tokens but the context holds "
                    + maxModelLen + " (prompt plus at least one generated token must fit)");
        }
        int maxOutput = maxModelLen - promptLen;
        if (maxTokens > maxOutput) {
            throw new InvalidRequestException("max_tokens", "max_tokens must be in [1, " + maxOutput + "] for a "
                    + promptLen + "-token prompt in a " + maxModelLen + "-token context, got " + maxTokens);
        }
        // NOTE: the last sampled token never needs KV, hence the - 1 (the scheduler admits on the same rule).
        if ((long) promptLen + maxTokens - 1 > kvCapacityTokens) {
            throw new InvalidRequestException("max_tokens", "prompt (" + promptLen + " tokens) + max_tokens ("
                    + maxTokens + ") needs more KV cache than this model's pool of " + kvCapacityTokens + " tokens");
        }
    }

    /** The deadline on the {@link System#nanoTime()} clock, or Long.MAX_VALUE (reserved) for none. */
    static long deadlineNanos(Instant deadline, Instant now, long nowNanos) {
        if (deadline == null) {
            return Long.MAX_VALUE;
        }
        if (!deadline.isAfter(now)) {
            throw new InvalidRequestException("deadline", "deadline " + deadline + " has already passed");
        }
        try {
            long at = Math.addExact(nowNanos, Duration.between(now, deadline).toNanos());
            return at == Long.MAX_VALUE ? at - 1 : at;
        } catch (ArithmeticException e) {
            // NOTE: a deadline centuries away is no deadline.
            return Long.MAX_VALUE;
        }
    }
}
