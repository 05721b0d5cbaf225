package dev.bulkhead.engine.internal.guided;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JsonAutomatonTest {

    private static final JsonGrammar ANY_VALUE = JsonGrammar.ofSchema("{}");
    private static final JsonGrammar ANY_OBJECT = JsonGrammar.anyObject();

    /** -1 when every byte is accepted, else the index of the first rejected byte. */
    private static int firstRejected(JsonGrammar g, byte[] bytes) {
        JsonAutomaton a = new JsonAutomaton(g);
        for (int i = 0; i < bytes.length; i++) {
            if (!a.advance(bytes[i] & 0xff)) {
                return i;
            }
        }
        return -1;
    }

    private static boolean accepts(JsonGrammar g, String text) {
        JsonAutomaton a = new JsonAutomaton(g);
        return a.advance(text.getBytes(StandardCharsets.UTF_8)) && a.isComplete();
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-0", "1e+5", "1E-5", "-12.5e3", "0.0", "123", "\"\"", "\"\\u00e9\"", "\"\\uD83D\\uDE00\"",
        "\"é😀\"", "\"a\\\"b\\\\c\\/\\b\\f\\n\\r\\t\"", "true", "false", "null", "[]", "[[], [[1]], {}]", "{}",
        "{\"a\": {\"b\": [1, -2.5, \"x\", null, true]}}", " [1,2] ", "[\n  1,\n  2\n]", "{\"\": 0}"})
    void acceptsValidJsonValues(String text) throws Exception {
        new ObjectMapper().readTree(text); // the table itself must be valid JSON
        assertThat(accepts(ANY_VALUE, text.strip())).as(text).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"01", "-", "-01", "1.", ".5", "1e", "1e+", "+1", "[1,]", "{\"a\":1,}", "[,1]", "{,}", "tru",
        "trux", "nul", "\"abc", "\"\\x\"", "\"\\u12G4\"", "{\"a\" 1}", "{1: 2}", "{\"a\":}", "[1 2]", "1 2", "{}{}",
        "\"\u0001\"", "NaN", "Infinity", "[1]]", "'a'"})
    void rejectsInvalidJson(String text) {
        JsonAutomaton a = new JsonAutomaton(ANY_VALUE);
        boolean ok = a.advance(text.getBytes(StandardCharsets.UTF_8)) && a.isComplete();
        assertThat(ok).as(text).isFalse();
    }

    @Test
    void rejectsMalformedUtf8InsideStrings() {
        byte[][] bad = {
            {'"', (byte) 0xC0, (byte) 0xAF, '"'},               // overlong '/'
            {'"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"'},  // UTF-16 surrogate as UTF-8
            {'"', (byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80, '"'}, // past U+10FFFF
            {'"', (byte) 0xE2, (byte) 0x82, '"'},               // truncated
            {'"', (byte) 0x80, '"'},                            // lone continuation byte
        };
        for (byte[] b : bad) {
            assertThat(firstRejected(ANY_VALUE, b)).isGreaterThan(0);
        }
        assertThat(firstRejected(ANY_VALUE, "\"€\"".getBytes(StandardCharsets.UTF_8))).isEqualTo(-1);
    }

    @Test
    void prefixesOfValidDocumentsAreAcceptedButIncomplete() {
        String doc = "{\"k\": [1.5e-3, \"v\\u00e9\", {\"n\": null}], \"t\": true}";
        byte[] bytes = doc.getBytes(StandardCharsets.UTF_8);
        JsonAutomaton a = new JsonAutomaton(ANY_OBJECT);
        for (int i = 0; i < bytes.length; i++) {
            assertThat(a.isComplete()).as("complete after %d bytes", i).isFalse();
            assertThat(a.advance(bytes[i] & 0xff)).as("byte %d", i).isTrue();
        }
        assertThat(a.isComplete()).isTrue();
    }

    @Test
    void jsonObjectNeedsAnObjectAtTopLevel() {
        assertThat(accepts(ANY_OBJECT, "{\"a\": [1]}")).isTrue();
        assertThat(firstRejected(ANY_OBJECT, "[1]".getBytes(StandardCharsets.UTF_8))).isZero();
        assertThat(firstRejected(ANY_OBJECT, "\"a\"".getBytes(StandardCharsets.UTF_8))).isZero();
        assertThat(firstRejected(ANY_OBJECT, "12".getBytes(StandardCharsets.UTF_8))).isZero();
    }

    @Test
    void nothingFollowsACompleteDocument() {
        JsonAutomaton a = new JsonAutomaton(ANY_OBJECT);
        assertThat(a.advance("{}".getBytes(StandardCharsets.UTF_8))).isTrue();
        assertThat(a.isComplete()).isTrue();
        for (int b = 0; b < 256; b++) {
            assertThat(a.copy().advance(b)).as("byte %d", b).isFalse();
        }
    }

    @Test
    void aTopLevelNumberIsCompleteYetMayGrow() {
        JsonAutomaton a = new JsonAutomaton(ANY_VALUE);
        assertThat(a.advance("12".getBytes(StandardCharsets.UTF_8))).isTrue();
        assertThat(a.isComplete()).isTrue();
        assertThat(a.copy().advance('3')).isTrue();
        assertThat(a.copy().advance(' ')).isFalse();
    }

    @Test
    void whitespaceRunsAreBounded() {
        String ok = "{" + " ".repeat(JsonAutomaton.MAX_WHITESPACE_RUN) + "}";
        assertThat(accepts(ANY_OBJECT, ok)).isTrue();
        String tooMuch = "{" + " ".repeat(JsonAutomaton.MAX_WHITESPACE_RUN + 1) + "}";
        assertThat(firstRejected(ANY_OBJECT, tooMuch.getBytes(StandardCharsets.UTF_8)))
                .isEqualTo(JsonAutomaton.MAX_WHITESPACE_RUN + 1);
        // whitespace inside strings is text, not layout, and does not count
        assertThat(accepts(ANY_OBJECT, "{\"a\": \"" + " ".repeat(50) + "\"}")).isTrue();
        // each run is bounded on its own
        String runs = "{" + " ".repeat(JsonAutomaton.MAX_WHITESPACE_RUN) + "\"a\"" + " ".repeat(JsonAutomaton.MAX_WHITESPACE_RUN)
                + ":" + " ".repeat(JsonAutomaton.MAX_WHITESPACE_RUN) + "1}";
        assertThat(accepts(ANY_OBJECT, runs)).isTrue();
    }

    @Test
    void nestingIsBounded() {
        String deep = "[".repeat(JsonAutomaton.MAX_NESTING) + "]".repeat(JsonAutomaton.MAX_NESTING);
        assertThat(accepts(ANY_VALUE, deep)).isTrue();
        String tooDeep = "[".repeat(JsonAutomaton.MAX_NESTING + 1);
        assertThat(firstRejected(ANY_VALUE, tooDeep.getBytes(StandardCharsets.UTF_8))).isEqualTo(JsonAutomaton.MAX_NESTING);
    }

    @Test
    void copiesAreIndependentAndCompareByState() {
        JsonAutomaton a = new JsonAutomaton(ANY_OBJECT);
        a.advance("{\"a\":".getBytes(StandardCharsets.UTF_8));
        JsonAutomaton b = a.copy();
        assertThat(b.sameState(a)).isTrue();
        assertThat(b.stateHash()).isEqualTo(a.stateHash());
        assertThat(b.advance('1')).isTrue();
        assertThat(b.sameState(a)).isFalse();
        assertThat(a.advance('"')).isTrue(); // a did not see b's '1'
    }
}
