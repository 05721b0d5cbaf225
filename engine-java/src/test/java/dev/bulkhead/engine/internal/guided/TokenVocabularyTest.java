package dev.bulkhead.engine.internal.guided;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.model.embedded.EmbeddedModel;
import dev.bulkhead.model.tokenizer.HfTokenizer;
import dev.bulkhead.model.tokenizer.Tokenizer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TokenVocabularyTest {

    @TempDir
    static Path tmp;

    @Test
    void byteLevelStandInsMapBackToBytes() {
        assertThat(TokenVocabulary.byteLevelBytes("\u0120hello")).isEqualTo(" hello".getBytes(StandardCharsets.UTF_8));
        assertThat(TokenVocabulary.byteLevelBytes("\u010a")).containsExactly('\n');
        assertThat(TokenVocabulary.byteLevelBytes("\u00c3\u00a9")).isEqualTo("é".getBytes(StandardCharsets.UTF_8));
        assertThat(TokenVocabulary.byteLevelBytes("\u00c3")).containsExactly((byte) 0xc3); // half a character
        assertThat(TokenVocabulary.byteLevelBytes("{\"")).containsExactly('{', '"');
    }

    @Test
    void sentencePieceSpacesAndByteFallback() {
        assertThat(TokenVocabulary.sentencePieceBytes("\u2581the")).isEqualTo(" the".getBytes(StandardCharsets.UTF_8));
        assertThat(TokenVocabulary.sentencePieceBytes("<0x0A>")).containsExactly('\n');
        assertThat(TokenVocabulary.sentencePieceBytes("<0xE2>")).containsExactly((byte) 0xe2);
        assertThat(TokenVocabulary.sentencePieceBytes("<0x0A>x")).isEqualTo("<0x0A>x".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void embeddedStoriesVocabulary() {
        Path dir = EmbeddedModel.extract(tmp);
        try (Tokenizer t = HfTokenizer.load(dir, 1, 2)) {
            TokenVocabulary v = TokenVocabulary.of(t);
            assertThat(v.size()).isEqualTo(t.vocabSize());
            assertThat(v.tokenBytes(0)).isNull(); // <unk>
            assertThat(v.tokenBytes(1)).isNull(); // <s>
            assertThat(v.tokenBytes(2)).isNull(); // </s>
            assertThat(v.tokenBytes(t.tokenId("<0x7B>"))).containsExactly('{');
            assertThat(v.tokenBytes(t.tokenId("\u2581\""))).containsExactly(' ', '"');
            assertConcatenationDecodes(t, v);
            assertEncodedTextRoundTrips(t, v);
        }
    }

    @ParameterizedTest
    @CsvSource({"llama2-tokenizer,<s>,</s>", "llama3.1-tokenizer,<|begin_of_text|>,<|eot_id|>",
        "qwen3-tokenizer,<|im_start|>,<|endoftext|>"})
    void sharedTokenizers(String name, String special1, String special2) {
        Path file = Path.of(System.getProperty("bulkhead.shared.dir", "../shared"), "models", name, "tokenizer.json");
        Assumptions.assumeTrue(Files.exists(file), file + " not found");
        try (Tokenizer t = HfTokenizer.load(file, -1, -1)) {
            TokenVocabulary v = TokenVocabulary.of(t);
            for (String special : new String[] {special1, special2}) {
                assertThat(t.tokenId(special)).as(special).isNotNegative();
                assertThat(v.tokenBytes(t.tokenId(special))).as(special).isNull();
            }
            assertConcatenationDecodes(t, v);
            assertEncodedTextRoundTrips(t, v);
        }
    }

    /** Tokens that split characters (byte fallback, byte-level pieces of emoji) still add up to the text. */
    private static void assertEncodedTextRoundTrips(Tokenizer t, TokenVocabulary v) {
        String text = "{\"name\": \"Zoë 你好 😀\",\n\t\"n\": -1.5e3}";
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int id : t.encode(text, false)) {
            assertThat(v.tokenBytes(id)).as("token %d", id).isNotNull();
            bytes.writeBytes(v.tokenBytes(id));
        }
        String got = bytes.toString(StandardCharsets.UTF_8);
        assertThat(got).isIn(text, " " + text);
    }

    private static String strictUtf8(byte[] b) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(b)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            return null;
        }
    }

    /** Random runs of ordinary tokens: their bytes, concatenated, must be exactly what the tokenizer decodes. */
    private static void assertConcatenationDecodes(Tokenizer t, TokenVocabulary v) {
        SplittableRandom rnd = new SplittableRandom(11);
        int ordinary = 0;
        for (int id = 0; id < v.size(); id++) {
            ordinary += v.tokenBytes(id) != null ? 1 : 0;
        }
        assertThat(ordinary).isGreaterThan(v.size() / 2);
        int anchor = t.encode("x", false)[0]; // a leading ordinary token keeps SentencePiece's leading space
        for (int run = 0; run < 1000; run++) {
            int[] ids = new int[rnd.nextInt(1, 12)];
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            bytes.writeBytes(v.tokenBytes(anchor));
            for (int i = 0; i < ids.length; i++) {
                int id;
                do {
                    id = rnd.nextInt(v.size());
                } while (v.tokenBytes(id) == null);
                ids[i] = id;
                bytes.writeBytes(v.tokenBytes(id));
            }
            int[] withAnchor = new int[ids.length + 1];
            withAnchor[0] = anchor;
            System.arraycopy(ids, 0, withAnchor, 1, ids.length);
            String expected = strictUtf8(bytes.toByteArray());
            if (expected == null) {
                continue; // decoders differ in how many U+FFFD stand for invalid bytes; the bytes are what count
            }
            String decoded = t.decode(withAnchor, true);
            assertThat(decoded).as("ids %s", java.util.Arrays.toString(withAnchor))
                    .isIn(expected, expected.startsWith(" ") ? expected.substring(1) : expected);
        }
    }
}
