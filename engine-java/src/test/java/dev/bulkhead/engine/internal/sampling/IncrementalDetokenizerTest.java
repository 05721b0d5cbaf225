package dev.bulkhead.engine.internal.sampling;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.model.tokenizer.HfTokenizer;
import dev.bulkhead.model.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IncrementalDetokenizerTest {

    private static final String TEXT = "Hi there, café 😀 ünïcödé €5 日本語 done.";

    private final ByteFallbackTokenizer tok = new ByteFallbackTokenizer("\u2581Hello", "\u2581world", "!", "\u2581",
            "\u2581the", "re", "\u2581caf");

    private static List<String> deltas(IncrementalDetokenizer d, int[] ids) {
        List<String> out = new ArrayList<>();
        for (int id : ids) {
            out.add(d.append(id));
        }
        return out;
    }

    @Test
    void leadingSpacesComeOutAsAFullDecodeShowsThem() {
        IncrementalDetokenizer d = new IncrementalDetokenizer(tok, new int[0], true);
        assertThat(deltas(d, new int[] {tok.id("\u2581Hello"), tok.id("\u2581world"), tok.id("!")}))
                .containsExactly("Hello", " world", "!");
    }

    @Test
    void promptContextKeepsTheFirstOutputTokensSpace() {
        int[] prompt = {ByteFallbackTokenizer.BOS, tok.id("\u2581Hello")};
        IncrementalDetokenizer d = new IncrementalDetokenizer(tok, prompt, true);
        assertThat(d.append(tok.id("\u2581world"))).isEqualTo(" world");
    }

    @Test
    void holdsASplitCharacterUntilItsLastByte() {
        IncrementalDetokenizer d = new IncrementalDetokenizer(tok, new int[] {tok.id("\u2581caf")}, true);
        List<String> out = new ArrayList<>();
        for (String s : new String[] {"é", "😀", "€"}) {
            out.addAll(deltas(d, ByteFallbackTokenizer.byteIds(s)));
        }
        // é has 2 bytes, 😀 4, € 3: each character comes out whole with its last byte.
        assertThat(out).containsExactly("", "é", "", "", "", "😀", "", "", "€");
        assertThat(d.flush()).isEmpty();
    }

    @Test
    void flushReleasesAnUnfinishedCharacterAsReplacement() {
        IncrementalDetokenizer d = new IncrementalDetokenizer(tok, new int[0], true);
        assertThat(d.append(tok.id("\u2581Hello"))).isEqualTo("Hello");
        int[] euro = ByteFallbackTokenizer.byteIds("€");
        assertThat(d.append(euro[0])).isEmpty();
        assertThat(d.append(euro[1])).isEmpty();
        assertThat(d.flush()).isEqualTo("\uFFFD");
        assertThat(d.flush()).isEmpty();
    }

    @Test
    void invalidBytesAreEmittedAfterABoundedWait() {
        IncrementalDetokenizer d = new IncrementalDetokenizer(tok, new int[0], true);
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 3 * IncrementalDetokenizer.MAX_PENDING; i++) {
            // NOTE: a lone continuation byte never completes a character.
            text.append(d.append(ByteFallbackTokenizer.byteId(0x80)));
        }
        assertThat(text.length()).isGreaterThanOrEqualTo(2 * IncrementalDetokenizer.MAX_PENDING);
        assertThat(text.chars()).containsOnly(0xFFFD);
    }

    @Test
    void specialTokensAreSkippedOrShownAsAsked() {
        int[] ids = {tok.id("\u2581Hello"), ByteFallbackTokenizer.EOS, tok.id("\u2581world")};
        assertThat(String.join("", deltas(new IncrementalDetokenizer(tok, new int[0], true), ids)))
                .isEqualTo("Hello world");
        assertThat(String.join("", deltas(new IncrementalDetokenizer(tok, new int[0], false), ids)))
                .isEqualTo("Hello</s> world");
    }

    @Test
    void longRunsOfSkippedTokensKeepTheWindowBoundedAndTheContext() {
        CountingTokenizer counting = new CountingTokenizer(tok);
        IncrementalDetokenizer d = new IncrementalDetokenizer(counting, new int[0], true);
        StringBuilder text = new StringBuilder(d.append(tok.id("\u2581Hello")));
        for (int i = 0; i < 100; i++) {
            text.append(d.append(ByteFallbackTokenizer.EOS));
        }
        text.append(d.append(tok.id("\u2581world")));
        assertThat(text).hasToString("Hello world");
        assertThat(counting.longest).isLessThanOrEqualTo(IncrementalDetokenizer.MAX_PENDING + 2);
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void concatenatedDeltasEqualTheFullDecode(long seed) {
        Random random = new Random(seed);
        String[] pieces = {"\u2581Hello", "\u2581world", "!", "\u2581", "\u2581the", "re", "\u2581caf"};
        String[] chars = {"é", "😀", "€", "日", "a", " ", "\n"};
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            if (random.nextBoolean()) {
                ids.add(tok.id(pieces[random.nextInt(pieces.length)]));
            } else {
                for (int b : ByteFallbackTokenizer.byteIds(chars[random.nextInt(chars.length)])) {
                    ids.add(b);
                }
            }
        }
        int[] all = ids.stream().mapToInt(Integer::intValue).toArray();
        int split = 1 + random.nextInt(20);
        int[] prompt = Arrays.copyOf(all, split);
        int[] output = Arrays.copyOfRange(all, split, all.length);
        CountingTokenizer counting = new CountingTokenizer(tok);
        IncrementalDetokenizer d = new IncrementalDetokenizer(counting, prompt, true);
        StringBuilder text = new StringBuilder();
        for (String delta : deltas(d, output)) {
            assertThat(delta).doesNotContain("\uFFFD");
            text.append(delta);
        }
        text.append(d.flush());
        String full = tok.decode(all, true);
        String head = tok.decode(prompt, true);
        assertThat(full).startsWith(head);
        assertThat(text).hasToString(full.substring(head.length()));
        // Each decode sees the prompt context or the last emitted token plus at most one pending character.
        assertThat(counting.longest).isLessThanOrEqualTo(IncrementalDetokenizer.PROMPT_CONTEXT + 4);
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama2-tokenizer", "qwen3-tokenizer", "llama3.1-tokenizer"})
    void realTokenizersStreamTheirOwnFullDecode(String name) {
        Path file = Path.of(System.getProperty("bulkhead.shared.dir", "../shared"), "models", name, "tokenizer.json");
        Assumptions.assumeTrue(Files.exists(file), "shared tokenizer missing: " + file);
        try (HfTokenizer real = HfTokenizer.load(file, -1, -1)) {
            int[] prompt = real.encode("Say hello", true);
            int[] output = real.encode(TEXT + " " + TEXT, false);
            int[] all = new int[prompt.length + output.length];
            System.arraycopy(prompt, 0, all, 0, prompt.length);
            System.arraycopy(output, 0, all, prompt.length, output.length);
            IncrementalDetokenizer d = new IncrementalDetokenizer(real, prompt, true);
            StringBuilder text = new StringBuilder();
            for (String delta : deltas(d, output)) {
                assertThat(delta).doesNotContain("\uFFFD");
                text.append(delta);
            }
            text.append(d.flush());
            String full = real.decode(all, true);
            String head = real.decode(prompt, true);
            assertThat(text).hasToString(full.substring(head.length()));
            assertThat(text.toString()).contains("😀", "日本語");
        }
    }

    /** Records the longest id array decoded, to check that the window stays bounded. */
    private static final class CountingTokenizer implements Tokenizer {
        private final Tokenizer delegate;
        private int longest;

        CountingTokenizer(Tokenizer delegate) {
            this.delegate = delegate;
        }

        @Override
        public int[] encode(String text, boolean addSpecialTokens) {
            return delegate.encode(text, addSpecialTokens);
        }

        @Override
        public String decode(int[] ids, boolean skipSpecialTokens) {
            longest = Math.max(longest, ids.length);
            return delegate.decode(ids, skipSpecialTokens);
        }

        @Override
        public int vocabSize() {
            return delegate.vocabSize();
        }

        @Override
        public String tokenText(int id) {
            return delegate.tokenText(id);
        }

        @Override
        public int tokenId(String token) {
            return delegate.tokenId(token);
        }

        @Override
        public int bosId() {
            return delegate.bosId();
        }

        @Override
        public int eosId() {
            return delegate.eosId();
        }
    }
}
