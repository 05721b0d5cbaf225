package dev.bulkhead.model.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.model.ModelFormatException;
import dev.bulkhead.model.tokenizer.HfTokenizer;
import dev.bulkhead.model.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GGUF tokenizers against independent references: the Hugging Face tokenizer.json of the same vocabulary,
 * run through DJL's Rust tokenizers, and the reference text of stories260K's greedy sample.
 */
class GgufTokenizerTest {

    private static final List<String> SAMPLES = List.of(
            "Once upon a time", "Hello world", "  two leading spaces", "a  b   c ", "tab\tand\nnew\n\nlines",
            "Lily's mom said, \"Lily, let's go!\"", "ünïcödé ✓ 日本語 🙂", "12345 + 678 = 13023", "");

    @TempDir
    Path dir;

    private static Path shared(String relative) {
        return Path.of(System.getProperty("bulkhead.shared.dir", "../shared")).resolve(relative);
    }

    private static JsonNode json(Path p) throws IOException {
        return new ObjectMapper().readTree(p.toFile());
    }

    /** DJL's native tokenizers may be unavailable offline; such tests skip with the reason. */
    private static HfTokenizer hf(Path dir, int bos, int eos) {
        try {
            return HfTokenizer.load(dir, bos, eos);
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            Assumptions.abort("Hugging Face reference tokenizer unavailable: " + e);
            return null;
        }
    }

    @Test
    void stories260kVocabularyMatchesTheHuggingFaceOneById() throws IOException {
        Path gguf = shared("models/stories260K-gguf/stories260K.gguf");
        Path hfJson = shared("models/stories260K-hf/tokenizer.json");
        Assumptions.assumeTrue(Files.exists(gguf) && Files.exists(hfJson), "stories260K files missing");
        JsonNode vocab = json(hfJson).path("model").path("vocab");
        try (GgufFile f = GgufFile.open(gguf); Tokenizer t = GgufTokenizers.from(f)) {
            assertThat(t.vocabSize()).isEqualTo(512).isEqualTo(vocab.size());
            vocab.properties().forEach(e -> assertThat(t.tokenText(e.getValue().asInt())).isEqualTo(e.getKey()));
            assertThat(t.bosId()).isEqualTo(1);
            assertThat(t.eosId()).isEqualTo(2);
            assertThat(t.tokenId("<0x0A>")).isEqualTo(13);
        }
    }

    @Test
    void stories260kEncodesLikeTheHuggingFaceTokenizer() {
        Path gguf = shared("models/stories260K-gguf/stories260K.gguf");
        Assumptions.assumeTrue(Files.exists(gguf), "stories260K.gguf missing");
        try (GgufFile f = GgufFile.open(gguf); Tokenizer t = GgufTokenizers.from(f);
             HfTokenizer ref = hf(shared("models/stories260K-hf"), 1, 2)) {
            for (String s : SAMPLES) {
                assertThat(t.encode(s, true)).as("with BOS: %s", s).containsExactly(ref.encode(s, true));
                assertThat(t.encode(s, false)).as("no BOS: %s", s).containsExactly(ref.encode(s, false));
            }
            int[] ids = t.encode("Once upon a time", true);
            assertThat(Arrays.stream(ids).mapToObj(t::tokenText).toList().getFirst()).isEqualTo("<s>");
            assertThat(String.join("", Arrays.stream(ids).skip(1).mapToObj(t::tokenText).toList()))
                    .isEqualTo("▁Once▁upon▁a▁time");
        }
    }

    @Test
    void stories260kRoundTripsAndDecodesTheReferenceSample() throws IOException {
        Path gguf = shared("models/stories260K-gguf/stories260K.gguf");
        Path reference = shared("models/stories260K-gguf/reference_greedy.json");
        Assumptions.assumeTrue(Files.exists(gguf) && Files.exists(reference), "stories260K files missing");
        JsonNode ref = json(reference);
        int[] greedy = IntStream.range(0, ref.path("greedy_ids").size())
                .map(i -> ref.path("greedy_ids").get(i).asInt()).toArray();
        try (GgufFile f = GgufFile.open(gguf); Tokenizer t = GgufTokenizers.from(f)) {
            for (String s : SAMPLES) {
                int[] ids = t.encode(s, true);
                assertThat(Arrays.stream(ids).allMatch(id -> id >= 0 && id < 512)).as("ids in range for %s", s).isTrue();
                assertThat(t.decode(ids, true)).as("round trip of %s", s).isEqualTo(s);
            }
            int[] withBos = IntStream.concat(IntStream.of(1), Arrays.stream(greedy)).toArray();
            assertThat(t.decode(withBos, true)).isEqualTo(ref.path("text").asText());
            assertThat(t.decode(new int[] {1, 403}, false)).startsWith("<s>");
            // "✓" is not in the 512-token vocabulary: its three UTF-8 bytes fall back to byte tokens.
            assertThat(Arrays.stream(t.encode("✓", false)).mapToObj(t::tokenText).toList())
                    .containsSubsequence("<0xE2>", "<0x9C>", "<0x93>");
        }
    }

    @Test
    void llama3ByteLevelBpeMatchesTheHuggingFaceTokenizer() throws IOException {
        Path hfDir = shared("models/llama3.1-tokenizer");
        Assumptions.assumeTrue(Files.exists(hfDir.resolve("tokenizer.json")), "llama3.1 tokenizer missing");
        Path gguf = toGguf(hfDir.resolve("tokenizer.json"), "llama-bpe", 128000, true);
        try (GgufFile f = GgufFile.open(gguf); Tokenizer t = GgufTokenizers.from(f);
             HfTokenizer ref = hf(hfDir, 128000, 128001)) {
            assertThat(t.vocabSize()).isEqualTo(ref.vocabSize());
            for (String s : withChatMarkers("<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>")) {
                assertThat(t.encode(s, true)).as("with BOS: %s", s).containsExactly(ref.encode(s, true));
                assertThat(t.decode(t.encode(s, false), false)).isEqualTo(s);
            }
            int[] digits = t.encode("12345", false);
            assertThat(Arrays.stream(digits).mapToObj(t::tokenText).toList()).containsExactly("123", "45");
        }
    }

    @Test
    void qwen3ByteLevelBpeMatchesTheHuggingFaceTokenizer() throws IOException {
        Path hfDir = shared("models/qwen3-tokenizer");
        Assumptions.assumeTrue(Files.exists(hfDir.resolve("tokenizer.json")), "qwen3 tokenizer missing");
        Path gguf = toGguf(hfDir.resolve("tokenizer.json"), "qwen2", -1, false);
        try (GgufFile f = GgufFile.open(gguf); Tokenizer t = GgufTokenizers.from(f);
             HfTokenizer ref = hf(hfDir, -1, 151645)) {
            for (String s : withChatMarkers("<|im_start|>user\nHi there<|im_end|>\n")) {
                assertThat(t.encode(s, true)).as("%s", s).containsExactly(ref.encode(s, true));
                assertThat(t.decode(t.encode(s, false), true)).isEqualTo(s.replaceAll("<\\|im_(start|end)\\|>", ""));
            }
        }
    }

    @Test
    void unsupportedTokenizerModelIsAFormatError() {
        Path p = dir.resolve("t.gguf");
        new GgufWriter().putString("tokenizer.ggml.model", "rwkv").putStringArray("tokenizer.ggml.tokens", "a")
                .write(p);
        try (GgufFile f = GgufFile.open(p)) {
            assertThatThrownBy(() -> GgufTokenizers.from(f)).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("t.gguf").hasMessageContaining("unsupported tokenizer model 'rwkv'");
        }
    }

    private static List<String> withChatMarkers(String chat) {
        return java.util.stream.Stream.concat(SAMPLES.stream(), java.util.stream.Stream.of(chat,
                "I'm sure they'll've DONE it", "x\r\n\r\n  y", "    indented code();")).toList();
    }

    /** Converts a Hugging Face byte-level BPE tokenizer.json to GGUF tokenizer metadata the way llama.cpp does. */
    private Path toGguf(Path tokenizerJson, String pre, int bos, boolean addBos) throws IOException {
        JsonNode root = json(tokenizerJson);
        int size = 0;
        for (var e : root.path("model").path("vocab").properties()) {
            size = Math.max(size, e.getValue().asInt() + 1);
        }
        for (JsonNode added : root.path("added_tokens")) {
            size = Math.max(size, added.path("id").asInt() + 1);
        }
        String[] tokens = new String[size];
        int[] types = new int[size];
        for (int i = 0; i < size; i++) {
            tokens[i] = "[PAD" + i + "]";
            types[i] = GgufVocab.UNUSED;
        }
        for (var e : root.path("model").path("vocab").properties()) {
            tokens[e.getValue().asInt()] = e.getKey();
            types[e.getValue().asInt()] = GgufVocab.NORMAL;
        }
        for (JsonNode added : root.path("added_tokens")) {
            int id = added.path("id").asInt();
            tokens[id] = added.path("content").asText();
            types[id] = added.path("special").asBoolean() ? GgufVocab.CONTROL : GgufVocab.USER_DEFINED;
        }
        JsonNode mergesNode = root.path("model").path("merges");
        String[] merges = new String[mergesNode.size()];
        for (int i = 0; i < merges.length; i++) {
            JsonNode m = mergesNode.get(i);
            merges[i] = m.isArray() ? m.get(0).asText() + " " + m.get(1).asText() : m.asText();
        }
        GgufWriter w = new GgufWriter().putString("tokenizer.ggml.model", "gpt2")
                .putString("tokenizer.ggml.pre", pre)
                .putStringArray("tokenizer.ggml.tokens", tokens)
                .putInt32Array("tokenizer.ggml.token_type", types)
                .putStringArray("tokenizer.ggml.merges", merges)
                .putBool("tokenizer.ggml.add_bos_token", addBos);
        if (bos >= 0) {
            w.putUInt32("tokenizer.ggml.bos_token_id", bos);
        }
        Path out = dir.resolve(pre + ".gguf");
        w.write(out);
        return out;
    }
}
