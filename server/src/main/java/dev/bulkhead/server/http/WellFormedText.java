package dev.bulkhead.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Map;

/**
 * Refuses strings that are not Unicode text: JSON's {@code \\uD800}-style escapes can carry a lone surrogate, which
 * UTF-8 cannot encode, so the tokenizer would see replacement characters (or fail) instead of what the client
 * meant. Better a 400 naming the field, as for any other bad value.
 */
final class WellFormedText {

    private WellFormedText() {
    }

    /** Throws a 400 naming the first string under {@code body} (its path, e.g. {@code messages[0].content}). */
    static void require(JsonNode body) {
        check(body, "");
    }

    private static void check(JsonNode node, String path) {
        if (node.isTextual()) {
            int bad = loneSurrogate(node.asText());
            if (bad >= 0) {
                String field = path.isEmpty() ? "body" : path;
                throw ApiException.badRequest(field, field + " has a lone UTF-16 surrogate at character " + bad
                        + " (an unpaired \\\\uD800-\\\\uDFFF escape); send well-formed Unicode text");
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                check(node.get(i), path + "[" + i + "]");
            }
        } else if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                check(e.getValue(), path.isEmpty() ? e.getKey() : path + "." + e.getKey());
            }
        }
    }

    /** Index of the first unpaired surrogate in {@code s}, or -1. */
    static int loneSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                    continue;
                }
                return i;
            }
            if (Character.isLowSurrogate(c)) {
                return i;
            }
        }
        return -1;
    }
}
