package dev.bulkhead.engine.internal.guided;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.engine.api.GuidedDecoding;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class JsonGuideTest {

    // ids:                            0    1    2      3    4    5     6    7    8    9 (EOS)
    private static final String[] PIECES = {"{", "}", "\"a\"", ":", "1", "{\"", "a", "\"", " ", null};
    private static final int EOS = 9;

    private static TokenVocabulary vocabulary(String... pieces) {
        byte[][] bytes = new byte[pieces.length][];
        for (int i = 0; i < pieces.length; i++) {
            bytes[i] = pieces[i] == null ? null : pieces[i].getBytes(StandardCharsets.UTF_8);
        }
        return TokenVocabulary.ofBytes(bytes);
    }

    private static JsonGuide guide(GuidedDecoding spec) {
        TokenVocabulary vocab = vocabulary(PIECES);
        return new JsonGuideFactory(() -> vocab, PIECES.length).create(spec, new int[] {EOS});
    }

    private static List<Integer> allowed(JsonGuide g) {
        long[] mask = g.allowedTokens();
        return IntStream.range(0, PIECES.length).filter(i -> (mask[i >>> 6] >>> i & 1) != 0).boxed().toList();
    }

    private static JsonGuide after(GuidedDecoding spec, int... tokens) {
        JsonGuide g = guide(spec);
        for (int t : tokens) {
            assertThat(allowed(g)).as("token %d allowed", t).contains(t);
            g.accept(t);
        }
        return g;
    }

    @Test
    void jsonObjectMasks() {
        GuidedDecoding obj = new GuidedDecoding.JsonObject();
        assertThat(allowed(after(obj))).containsExactly(0, 5, 8);
        assertThat(allowed(after(obj, 0))).containsExactly(1, 2, 7, 8);
        // inside a free key any text goes, but not a token that closes it and goes on with 'a'
        assertThat(allowed(after(obj, 5))).containsExactly(0, 1, 3, 4, 5, 6, 7, 8);
        assertThat(allowed(after(obj, 0, 2))).containsExactly(3, 8);
        assertThat(allowed(after(obj, 0, 2, 3))).containsExactly(0, 2, 4, 5, 7, 8);
        assertThat(allowed(after(obj, 0, 2, 3, 4))).containsExactly(1, 4, 8);
        assertThat(allowed(after(obj, 0, 2, 3, 4, 1))).containsExactly(EOS);
        assertThat(after(obj, 0, 2, 3, 4, 1).isComplete()).isTrue();
        assertThat(allowed(after(obj, 5, 6, 7, 3, 8, 5, 7, 3, 4, 1, 1))).containsExactly(EOS);
    }

    @Test
    void schemaMasks() {
        GuidedDecoding schema = new GuidedDecoding.JsonSchema(
                "{\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"integer\"}}, \"required\": [\"a\"]}");
        assertThat(allowed(after(schema))).containsExactly(0, 5, 8);
        assertThat(allowed(after(schema, 0))).containsExactly(2, 7, 8);
        assertThat(allowed(after(schema, 5))).containsExactly(6);
        assertThat(allowed(after(schema, 5, 6))).containsExactly(7);
        assertThat(allowed(after(schema, 5, 6, 7, 3))).containsExactly(4, 8);
        assertThat(allowed(after(schema, 5, 6, 7, 3, 4, 1))).containsExactly(EOS);
    }

    @Test
    void theVocabularyIsBuiltOnceForAllGuides() {
        java.util.concurrent.atomic.AtomicInteger builds = new java.util.concurrent.atomic.AtomicInteger();
        TokenVocabulary vocab = vocabulary(PIECES);
        JsonGuideFactory factory = new JsonGuideFactory(() -> {
            builds.incrementAndGet();
            return vocab;
        }, PIECES.length);
        JsonGuide first = factory.create(new GuidedDecoding.JsonObject(), new int[] {EOS});
        JsonGuide second = factory.create(new GuidedDecoding.JsonObject(), new int[] {EOS});
        first.accept(0);
        assertThat(builds.get()).isEqualTo(1);
        assertThat(allowed(second)).as("each guide has its own state").containsExactly(0, 5, 8);
    }

    @Test
    void aTokenOutsideTheGrammarEndsGuidance() {
        JsonGuide g = after(new GuidedDecoding.JsonObject(), 0);
        g.accept(3); // ':' right after '{'
        assertThat(allowed(g)).containsExactly(EOS);
        assertThat(g.isComplete()).isFalse();
    }

    @Test
    void theTrieWalkAgreesWithFeedingEveryTokenAlone() {
        SplittableRandom rnd = new SplittableRandom(7);
        String alphabet = "{}[]\":,0123456789-.eE+ atrufsln\\u\u00e9";
        List<String> pieces = new ArrayList<>();
        for (int i = 0; i < 600; i++) {
            StringBuilder sb = new StringBuilder();
            for (int k = rnd.nextInt(1, 6); k > 0; k--) {
                sb.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
            }
            pieces.add(sb.toString());
        }
        pieces.add(null); // EOS, the last id
        TokenVocabulary vocab = vocabulary(pieces.toArray(String[]::new));
        GuidedDecoding schema = new GuidedDecoding.JsonSchema("""
                {"type": "object", "properties": {"a": {"type": "array", "items": {"type": "number"}},
                 "b": {"anyOf": [{"type": "string"}, {"type": "boolean"}, {"type": "null"}]}}, "required": ["b"]}""");
        for (GuidedDecoding spec : List.of(new GuidedDecoding.JsonObject(), schema)) {
            for (int run = 0; run < 20; run++) {
                MaskOracle.randomWalk(vocab, pieces.size(), spec, rnd, 40, spec + " run " + run);
            }
        }
    }
}
