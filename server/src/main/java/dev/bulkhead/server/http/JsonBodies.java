package dev.bulkhead.server.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Reads a request body strictly: at most a byte limit (413 past it), valid UTF-8, one JSON object with no
 * duplicate keys and nothing after it. Anything else is a 400 that says what is wrong, before any engine work.
 */
final class JsonBodies {

    private final ObjectMapper mapper;
    private final long maxBytes;

    JsonBodies(ObjectMapper mapper, long maxBytes) {
        this.mapper = mapper.copy()
                .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        this.maxBytes = maxBytes;
    }

    /** Reads and parses the body; {@code declaredLength} is the Content-Length, or -1 when absent. */
    JsonNode readObject(InputStream in, long declaredLength) {
        return parse(read(in, declaredLength));
    }

    /**
     * Reads the body's bytes, at most the limit; the I/O half of {@link #readObject}, which a request does on its own
     * thread before it hands {@link #parse} (CPU work) to the {@link RequestCpuPool}.
     */
    byte[] read(InputStream in, long declaredLength) {
        if (declaredLength > maxBytes) {
            throw tooLarge();
        }
        return readBounded(in);
    }

    /** Parses a body read by {@link #read}: valid UTF-8 holding one JSON object. */
    JsonNode parse(byte[] body) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            throw ApiException.badRequest(null, "request body is not valid UTF-8");
        }
        if (text.isBlank()) {
            throw ApiException.badRequest(null, "request body is empty; expected a JSON object");
        }
        JsonNode root;
        try {
            root = mapper.readTree(text);
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest(null, "malformed JSON in request body: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw ApiException.badRequest(null, "request body must be a JSON object");
        }
        return root;
    }

    private byte[] readBounded(InputStream in) {
        try (in) {
            // NOTE: read one byte past the limit, so a body without Content-Length (chunked) is caught too.
            byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
            if (bytes.length > maxBytes) {
                throw tooLarge();
            }
            return bytes;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private ApiException tooLarge() {
        return new ApiException(413, "invalid_request_error", null, "request_too_large",
                "request body is larger than the limit of " + maxBytes + " bytes", -1);
    }
}
