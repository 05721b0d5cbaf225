package dev.bulkhead.model.llama2c;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.model.ModelFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Llama2cTokenizerTest {

    private static final Path SHARED = Path.of(System.getProperty("bulkhead.shared.dir", "../../shared"));
    private static final Path TOK512 = SHARED.resolve("models/stories260K/tok512.bin");
    private static final Path TOK512_HF = SHARED.resolve("models/stories260K-hf/tokenizer.json");
    private static final Path REFERENCE = SHARED.resolve("models/stories260K/reference_greedy.json");
    private static final Path LLAMA2 = SHARED.resolve("models/llama2-tokenizer/tokenizer.bin");
    private static final Path LLAMA2_HF = SHARED.resolve("models/llama2-tokenizer/tokenizer.json");

    @TempDir
    Path tmp;

    private static Llama2cTokenizer load(Path p) {
        assumeTrue(Files.exists(p), "test data missing: " + p + " (see ../shared/models)");
        return Llama2cTokenizer.load(p);
    }

    /** Every piece equals the Hugging Face vocabulary entry with the same id (space for ▁; specials unwrapped). */
    private static void assertSameVocabulary(Llama2cTokenizer tok, Path tokenizerJson, int size) throws IOException {
        assumeTrue(Files.exists(tokenizerJson), "test data missing: " + tokenizerJson);
        JsonNode vocab = new ObjectMapper().readTree(tokenizerJson.toFile()).path("model").path("vocab");
        String[] hf = new String[vocab.size()];
        vocab.properties().forEach(e -> hf[e.getValue().asInt()] = e.getKey());
        assertThat(tok.vocabSize()).isEqualTo(size).isEqualTo(hf.length);
        for (int id = 0; id < size; id++) {
            String mine = tok.tokenText(id);
            String expected = id <= 2 ? mine.strip() : mine.replace(' ', '\u2581');
            assertThat(expected).as("piece %d", id).isEqualTo(hf[id]);
        }
    }

    @Test
    void tok512VocabularyMatchesTheHuggingFaceTokenizer() throws IOException {
        Llama2cTokenizer tok = load(TOK512);
        assertSameVocabulary(tok, TOK512_HF, 512);
        assertThat(tok.maxTokenLength()).isEqualTo(7);
        assertThat(tok.bosId()).isEqualTo(1);
        assertThat(tok.eosId()).isEqualTo(2);
        assertThat(tok.tokenText(1)).isEqualTo("\n<s>\n");
        assertThat(tok.tokenId(" the")).isEqualTo(tok.tokenId(" the")).isPositive();
        assertThat(tok.tokenId("not a piece")).isEqualTo(-1);
    }

    @Test
    void llama2VocabularyMatchesTheHuggingFaceTokenizer() throws IOException {
        assertSameVocabulary(load(LLAMA2), LLAMA2_HF, 32000);
    }

    @Test
    void encodesLikeTinyLlamaReference() {
        Llama2cTokenizer tok = load(LLAMA2);
        // TinyLlama's own tokenizer ids, quoted in ../shared/models/llama2-tokenizer/SOURCE.txt
        assertThat(tok.encode("Hello, TinyLlama!", true))
                .containsExactly(1, 15043, 29892, 323, 4901, 29931, 29880, 3304, 29991);
        assertThat(tok.encode("Hello, TinyLlama!", false))
                .containsExactly(15043, 29892, 323, 4901, 29931, 29880, 3304, 29991);
        assertThat(tok.encode("", true)).containsExactly(1);
        assertThat(tok.encode("", false)).isEmpty();
    }

    @Test
    void stories260kReferenceTextDecodesAndReEncodes() throws IOException {
        Llama2cTokenizer tok = load(TOK512);
        assumeTrue(Files.exists(REFERENCE), "test data missing: " + REFERENCE);
        JsonNode ref = new ObjectMapper().readTree(REFERENCE.toFile());
        int[] greedy = new ObjectMapper().convertValue(ref.get("greedy_ids"), int[].class);
        String text = ref.get("text").asText();
        int[] withBos = new int[greedy.length + 1];
        withBos[0] = 1;
        System.arraycopy(greedy, 0, withBos, 1, greedy.length);
        assertThat(tok.decode(withBos, true)).isEqualTo(text);
        assertThat(tok.decode(greedy, true)).isEqualTo(text);
        assertThat(tok.encode(text, true)).containsExactly(withBos);
    }

    @Test
    void roundTripsTextIncludingByteFallback() {
        for (Path p : List.of(TOK512, LLAMA2)) {
            Llama2cTokenizer tok = load(p);
            for (String s : List.of("Once upon a time", "  two leading spaces", "trailing space ", "a\nb\n\nc",
                    "Zürich café – naïve", "emoji 🦙🚀 and 漢字", "tabs\tand\u0000nul", "x")) {
                int[] ids = tok.encode(s, true);
                assertThat(ids[0]).isEqualTo(1);
                assertThat(tok.decode(ids, true)).as("%s via %s", s, p.getFileName()).isEqualTo(s);
                assertThat(tok.decode(tok.encode(s, false), true)).isEqualTo(s);
                assertThat(Arrays.stream(ids).allMatch(id -> id >= 0 && id < tok.vocabSize())).isTrue();
            }
        }
    }

    @Test
    void unknownCodePointsFallBackToByteTokens() {
        Llama2cTokenizer tok = load(TOK512);
        int[] ids = tok.encode("🦙", false);
        byte[] utf8 = "🦙".getBytes(StandardCharsets.UTF_8);
        // dummy-prefix space, then one <0xXX> token per UTF-8 byte: id = byte + 3 in SentencePiece vocabularies
        assertThat(ids).hasSize(1 + utf8.length);
        assertThat(tok.tokenText(ids[0])).isEqualTo(" ");
        for (int i = 0; i < utf8.length; i++) {
            assertThat(ids[i + 1]).isEqualTo((utf8[i] & 0xFF) + 3);
            assertThat(tok.tokenText(ids[i + 1])).isEqualTo(String.format("<0x%02X>", utf8[i] & 0xFF));
        }
    }

    @Test
    void decodeKeepsSpecialTokensWhenAsked() {
        Llama2cTokenizer tok = load(TOK512);
        int[] ids = tok.encode("Hi", true);
        int[] withEos = Arrays.copyOf(ids, ids.length + 1);
        withEos[ids.length] = 2;
        assertThat(tok.decode(withEos, false)).isEqualTo("<s>Hi</s>");
        assertThat(tok.decode(withEos, true)).isEqualTo("Hi");
        assertThatThrownBy(() -> tok.decode(new int[] {512}, true)).hasMessageContaining("512");
        assertThatThrownBy(() -> tok.decode(new int[] {-1}, true)).hasMessageContaining("-1");
    }

    /** run.c's merge loop, transcribed: O(n²) scan, strictly better score wins, leftmost first. */
    private static int[] naiveMerge(Llama2cTokenizer tok, int[] symbols) {
        List<Integer> t = new ArrayList<>();
        for (int s : symbols) {
            t.add(s);
        }
        while (true) {
            float best = -1e10f;
            int bestId = -1;
            int bestIdx = -1;
            for (int i = 0; i + 1 < t.size(); i++) {
                int id = tok.tokenId(tok.tokenText(t.get(i)) + tok.tokenText(t.get(i + 1)));
                if (id != -1 && tok.score(id) > best) {
                    best = tok.score(id);
                    bestId = id;
                    bestIdx = i;
                }
            }
            if (bestIdx == -1) {
                break;
            }
            t.set(bestIdx, bestId);
            t.remove(bestIdx + 1);
        }
        return t.stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    void heapMergeAgreesWithRunCsQuadraticLoop() {
        for (Path p : List.of(TOK512, LLAMA2)) {
            Llama2cTokenizer tok = load(p);
            Random random = new Random(7);
            String alphabet = "aaabcdeeefghiilmnnoorssttu    .,'\nTHÖ";
            for (int trial = 0; trial < 200; trial++) {
                StringBuilder sb = new StringBuilder();
                int len = 1 + random.nextInt(60);
                for (int i = 0; i < len; i++) {
                    sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
                }
                String s = sb.toString();
                // symbols before merging: the dummy prefix and one piece (or bytes) per code point
                List<Integer> symbols = new ArrayList<>();
                for (int cp : (" " + s).codePoints().toArray()) {
                    String ch = new String(Character.toChars(cp));
                    int id = tok.tokenId(ch);
                    if (id >= 0) {
                        symbols.add(id);
                    } else {
                        for (byte b : ch.getBytes(StandardCharsets.UTF_8)) {
                            symbols.add((b & 0xFF) + 3);
                        }
                    }
                }
                int[] expected = naiveMerge(tok, symbols.stream().mapToInt(Integer::intValue).toArray());
                assertThat(tok.encode(s, false)).as("'%s' via %s", s, p.getFileName()).containsExactly(expected);
            }
        }
    }

    private Path writeTokenizer(String name, int maxLen, String... pieces) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(maxLen);
        for (int i = 0; i < pieces.length; i++) {
            byte[] bytes = pieces[i].getBytes(StandardCharsets.UTF_8);
            b.putFloat(-i).putInt(bytes.length).put(bytes);
        }
        Path f = tmp.resolve(name);
        Files.write(f, Arrays.copyOf(b.array(), b.position()));
        return f;
    }

    @Test
    void malformedFilesAreRejectedNamingTheFile() throws IOException {
        Path ok = writeTokenizer("ok.bin", 4, "<unk>", "\n<s>\n", "\n</s>\n", "a", "b", "ab");
        Llama2cTokenizer tok = Llama2cTokenizer.load(ok);
        assertThat(tok.vocabSize()).isEqualTo(6);
        // no " " piece and no <0x20> byte piece: the dummy prefix becomes <unk>; "a" + "b" merge into "ab"
        assertThat(tok.encode("ab", false)).containsExactly(0, 5);
        byte[] bytes = Files.readAllBytes(ok);

        Path truncated = tmp.resolve("cut.bin");
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length - 1));
        assertThatThrownBy(() -> Llama2cTokenizer.load(truncated)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("cut.bin").hasMessageContaining("token 5");
        assertThatThrownBy(() -> Llama2cTokenizer.load(ok, 5)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("ok.bin").hasMessageContaining("trailing");
        assertThatThrownBy(() -> Llama2cTokenizer.load(ok, 7)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("ok.bin");
        Path badMax = writeTokenizer("badmax.bin", -1, "a");
        assertThatThrownBy(() -> Llama2cTokenizer.load(badMax)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("badmax.bin").hasMessageContaining("max_token_length");
        Path tooFew = writeTokenizer("few.bin", 4, "<unk>", "<s>");
        assertThatThrownBy(() -> Llama2cTokenizer.load(tooFew)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("few.bin");
    }
}
