package dev.bulkhead.engine.internal.sampling;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class StopStringMatcherTest {

    @Test
    void withholdsOnlyWhatCouldStartAStop() {
        StopStringMatcher m = new StopStringMatcher(List.of("</tool>", "STOP"), false);
        assertThat(m.accept("result: x</t")).isEqualTo("result: x");
        assertThat(m.accept("a")).isEqualTo("</ta");
        assertThat(m.accept("ST")).isEmpty();
        assertThat(m.accept("OP and more")).isEmpty();
        assertThat(m.matched()).isEqualTo("STOP");
    }

    @Test
    void theStopThatEndsFirstWinsWhateverTheSplit() {
        for (String[] split : new String[][] {{"xabcdy"}, {"xab", "cdy"}, {"xabc", "dy"}, {"x", "a", "b", "c", "d"}}) {
            StopStringMatcher m = new StopStringMatcher(List.of("abcd", "bc"), false);
            StringBuilder out = new StringBuilder();
            for (String part : split) {
                if (m.matched() == null) {
                    out.append(m.accept(part));
                }
            }
            assertThat(out).as(String.join("|", split)).hasToString("xa");
            assertThat(m.matched()).isEqualTo("bc");
        }
    }

    @Test
    void noStopsReleasesEverything() {
        StopStringMatcher m = new StopStringMatcher(List.of(), false);
        assertThat(m.accept("abc")).isEqualTo("abc");
        assertThat(m.release()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void randomSplitsMatchACharacterByCharacterReference(long seed) {
        Random random = new Random(seed);
        String alphabet = "ab😀c";
        String text = randomString(random, alphabet, 60);
        List<String> stops = new ArrayList<>();
        for (int i = 0; i < 1 + random.nextInt(3); i++) {
            stops.add(randomString(random, alphabet, 1 + random.nextInt(4)));
        }
        boolean include = random.nextBoolean();
        StopStringMatcher m = new StopStringMatcher(stops, include);
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < text.length() && m.matched() == null) {
            int j = Math.min(text.length(), i + 1 + random.nextInt(5));
            if (j < text.length() && Character.isLowSurrogate(text.charAt(j))) {
                j++;
            }
            out.append(m.accept(text.substring(i, j)));
            i = j;
        }
        if (m.matched() == null) {
            out.append(m.release());
        }
        assertThat(out).as("text %s stops %s", text, stops).hasToString(reference(text, stops, include));
    }

    /** Reads char by char and stops at the first position where some stop string ends (the longest there). */
    private static String reference(String text, List<String> stops, boolean include) {
        for (int end = 1; end <= text.length(); end++) {
            String best = null;
            for (String s : stops) {
                if (text.startsWith(s, end - s.length()) && end >= s.length()
                        && (best == null || s.length() > best.length())) {
                    best = s;
                }
            }
            if (best != null) {
                return text.substring(0, include ? end : end - best.length());
            }
        }
        return text;
    }

    /** A random string of {@code length} code points drawn from {@code alphabet}'s code points. */
    private static String randomString(Random random, String alphabet, int length) {
        int[] cps = alphabet.codePoints().toArray();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < length; i++) {
            sb.appendCodePoint(cps[random.nextInt(cps.length)]);
        }
        return sb.toString();
    }
}
