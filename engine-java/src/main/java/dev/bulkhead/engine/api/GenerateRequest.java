package dev.bulkhead.engine.api;

import dev.bulkhead.engine.InvalidRequestException;
import dev.bulkhead.engine.api.SamplingParams;
import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * One generation request for {@link dev.bulkhead.engine.LlmEngine}. Give either a text prompt (tokenized with the model's
 * tokenizer, BOS added as the tokenizer does) or token ids.
 *
 * @param requestId  unique id, used to cancel; a random one when null
 * @param prompt     text prompt, or null when {@code promptTokenIds} is given
 * @param promptTokenIds token ids, or null when {@code prompt} is given
 * @param sampling   sampling and stop parameters
 * @param priority   lower is more important (as in vLLM); requests of equal priority go by arrival
 * @param deadline   when the request is aborted if not finished, or null for none
 */
public record GenerateRequest(String requestId, String prompt, int[] promptTokenIds, SamplingParams sampling,
                              int priority, Instant deadline) {

    public GenerateRequest {
        requestId = requestId == null ? UUID.randomUUID().toString() : requestId;
        if (requestId.isBlank()) {
            throw new InvalidRequestException("request_id", "request_id must not be blank");
        }
        if ((prompt == null) == (promptTokenIds == null)) {
            throw new InvalidRequestException("prompt", "give exactly one of prompt and prompt_token_ids");
        }
        promptTokenIds = promptTokenIds == null ? null : promptTokenIds.clone();
        Objects.requireNonNull(sampling, "sampling");
    }

    /** A text request with default priority and no deadline. */
    public static GenerateRequest of(String prompt, SamplingParams sampling) {
        return new GenerateRequest(null, prompt, null, sampling, 0, null);
    }

    /** A token-id request with default priority and no deadline. */
    public static GenerateRequest ofTokens(int[] promptTokenIds, SamplingParams sampling) {
        return new GenerateRequest(null, null, promptTokenIds, sampling, 0, null);
    }

    public GenerateRequest withRequestId(String id) {
        return new GenerateRequest(id, prompt, promptTokenIds, sampling, priority, deadline);
    }

    public GenerateRequest withPriority(int p) {
        return new GenerateRequest(requestId, prompt, promptTokenIds, sampling, p, deadline);
    }

    public GenerateRequest withDeadline(Instant d) {
        return new GenerateRequest(requestId, prompt, promptTokenIds, sampling, priority, d);
    }

    @Override
    public int[] promptTokenIds() {
        return promptTokenIds == null ? null : promptTokenIds.clone();
    }
}
