package dev.bulkhead.server.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulkhead.engine.internal.sampling.SampleResult;
import dev.bulkhead.model.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * OpenAI's {@code logprobs} objects: chat's {@code {"content": [{token, logprob, bytes, top_logprobs}]}} and the
 * legacy completions' {@code {tokens, token_logprobs, top_logprobs, text_offset}}. A token's text is its own
 * decoding after an anchor token (so a SentencePiece {@code ▁word} keeps its space, which a decoder strips from a
 * text's first token); {@code bytes} are that text's UTF-8 bytes.
 */
final class LogprobsBodies {

    /** What vLLM reports for a log-probability of -infinity, which JSON cannot hold. */
    private static final double FLOOR = -9999.0;

    private final Tokenizer tokenizer;
    private final int anchor;          // a token decoded before each one, or -1 when the vocabulary has none
    private final String anchorText;   // its text on its own

    LogprobsBodies(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
        int[] a = tokenizer.encode("a", false);
        this.anchor = a.length == 1 ? a[0] : -1;
        this.anchorText = anchor < 0 ? "" : tokenizer.decode(new int[] {anchor}, false);
    }

    /** Chat's object for {@code tokens}. */
    ObjectNode chat(List<SampleResult> tokens) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        ArrayNode content = root.putArray("content");
        for (SampleResult t : tokens) {
            ObjectNode e = entry(content.addObject(), t.tokenId(), t.logprob());
            ArrayNode top = e.putArray("top_logprobs");
            for (SampleResult.TokenLogprob alt : t.top()) {
                entry(top.addObject(), alt.tokenId(), alt.logprob());
            }
        }
        return root;
    }

    /** The completions' object for {@code tokens}, whose text starts at {@code textOffset} of the choice's text. */
    ObjectNode completion(List<SampleResult> tokens, int textOffset) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        ArrayNode names = root.putArray("tokens");
        ArrayNode logprobs = root.putArray("token_logprobs");
        ArrayNode tops = root.putArray("top_logprobs");
        ArrayNode offsets = root.putArray("text_offset");
        int offset = textOffset;
        for (SampleResult t : tokens) {
            String text = text(t.tokenId());
            names.add(text);
            logprobs.add(value(t.logprob()));
            ObjectNode top = tops.addObject();
            for (SampleResult.TokenLogprob alt : t.top()) {
                top.put(text(alt.tokenId()), value(alt.logprob()));
            }
            if (!t.top().isEmpty() && !top.has(text)) {
                top.put(text, value(t.logprob()));
            }
            offsets.add(offset);
            offset += text.length();
        }
        return root;
    }

    /** The text of one token, as it appears in {@code logprobs}. */
    String text(int tokenId) {
        if (anchor >= 0) {
            String both = tokenizer.decode(new int[] {anchor, tokenId}, false);
            if (both.startsWith(anchorText)) {
                return both.substring(anchorText.length());
            }
        }
        return tokenizer.decode(new int[] {tokenId}, false);
    }

    private ObjectNode entry(ObjectNode e, int tokenId, float logprob) {
        String text = text(tokenId);
        e.put("token", text);
        e.put("logprob", value(logprob));
        ArrayNode bytes = e.putArray("bytes");
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            bytes.add(b & 0xff);
        }
        return e;
    }

    private static double value(float logprob) {
        return Float.isFinite(logprob) ? logprob : FLOOR;
    }
}
