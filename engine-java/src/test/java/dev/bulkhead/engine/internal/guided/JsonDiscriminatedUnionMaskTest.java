package dev.bulkhead.engine.internal.guided;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.engine.api.GuidedDecoding;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Token masks while a discriminated object union (a tool call) is being generated. */
class JsonDiscriminatedUnionMaskTest {

    private static String tools(String... names) {
        List<String> alternatives = new ArrayList<>();
        for (String name : names) {
            alternatives.add("{\"type\": \"object\", \"properties\": {\"name\": {\"const\": \"" + name + "\"}, "
                    + "\"arguments\": {\"type\": \"object\", \"properties\": {\"" + name + "_arg\": {\"type\": \"string\"}},"
                    + " \"required\": [\"" + name + "_arg\"]}}, \"required\": [\"name\", \"arguments\"], "
                    + "\"additionalProperties\": false}");
        }
        return "{\"anyOf\": [" + String.join(", ", alternatives) + "]}";
    }

    private static final String[] PIECES = {"{\"", "name", "\":", " \"", "get_", "weather", "time", "w", "t", "x",
        "\"", "weather\"", "time\",", "hour", "get", "weath", "timer", "_hourly", "\\u", " ", "wx", "er\"", null};

    private static List<String> allowedAfter(String schema, String... pieces) {
        byte[][] bytes = new byte[PIECES.length][];
        for (int i = 0; i < PIECES.length; i++) {
            bytes[i] = PIECES[i] == null ? null : PIECES[i].getBytes(StandardCharsets.UTF_8);
        }
        TokenVocabulary vocab = TokenVocabulary.ofBytes(bytes);
        int eos = PIECES.length - 1;
        JsonGuide g = new JsonGuideFactory(() -> vocab, PIECES.length)
                .create(new GuidedDecoding.JsonSchema(schema), new int[] {eos});
        for (String piece : pieces) {
            int id = Arrays.asList(PIECES).indexOf(piece);
            assertThat(id).as(piece).isNotNegative();
            g.accept(id);
        }
        long[] mask = g.allowedTokens();
        return IntStream.range(0, PIECES.length).filter(i -> (mask[i >>> 6] >>> i & 1) != 0)
                .mapToObj(i -> PIECES[i] == null ? "EOS" : PIECES[i]).toList();
    }

    @Test
    void insideTheDiscriminatorOnlyContinuationsOfSomeNameAreAllowed() {
        String schema = tools("get_weather", "get_time");
        // the rest of either name, whole or in part, possibly with the closing quote and what may follow it
        assertThat(allowedAfter(schema, "{\"", "name", "\":", " \"", "get_"))
                .containsExactlyInAnyOrder("weather", "time", "w", "t", "weath", "weather\"", "time\",");
        assertThat(allowedAfter(schema, "{\"", "name", "\":", " \"", "get_", "weath")).containsExactlyInAnyOrder("er\"");
        assertThat(allowedAfter(schema, "{\"", "name", "\":", " \"", "get_", "time")).containsExactlyInAnyOrder("\"");
        assertThat(allowedAfter(schema, "{\"", "name", "\":")).containsExactlyInAnyOrder(" \"", " ", "\"");
    }

    @Test
    void aNameThatIsAPrefixOfAnotherMayCloseOrGoOn() {
        String schema = tools("get_weather", "get_weather_hourly");
        assertThat(allowedAfter(schema, "{\"", "name", "\":", " \"", "get_", "weather"))
                .containsExactlyInAnyOrder("\"", "_hourly");
        assertThat(allowedAfter(schema, "{\"", "name", "\":", " \"", "get_"))
                .containsExactlyInAnyOrder("weather", "w", "weath", "weather\"");
    }

    @Test
    void theTrieWalkAgreesWithFeedingEveryTokenAlone() {
        SplittableRandom rnd = new SplittableRandom(3);
        String[] fragments = {"{", "}", "\"", ":", ",", " ", "{\"", "\":", "\", \"", "name", "arguments", "get_",
            "weather", "time", "_hourly", "_arg", "a", "x", "\\", "\\u00e9", "é", "1", "\n"};
        List<String> pieces = new ArrayList<>();
        for (int i = 0; i < 800; i++) {
            StringBuilder sb = new StringBuilder();
            for (int k = rnd.nextInt(1, 4); k > 0; k--) {
                sb.append(fragments[rnd.nextInt(fragments.length)]);
            }
            pieces.add(sb.toString());
        }
        pieces.add(null); // EOS, the last id
        byte[][] bytes = pieces.stream().map(p -> p == null ? null : p.getBytes(StandardCharsets.UTF_8))
                .toArray(byte[][]::new);
        TokenVocabulary vocab = TokenVocabulary.ofBytes(bytes);
        GuidedDecoding spec = new GuidedDecoding.JsonSchema(tools("get_weather", "get_time", "get_weather_hourly"));
        int completed = 0;
        for (int run = 0; run < 30; run++) {
            completed += MaskOracle.randomWalk(vocab, pieces.size(), spec, rnd, 60, "run " + run) ? 1 : 0;
        }
        assertThat(completed).as("walks that chose an alternative and finished it").isPositive();
    }
}
