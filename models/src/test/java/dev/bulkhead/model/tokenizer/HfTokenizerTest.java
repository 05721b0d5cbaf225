package dev.bulkhead.model.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.model.ModelFormatException;
import dev.bulkhead.model.embedded.EmbeddedModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HfTokenizerTest {

    @TempDir
    static Path tmp;

    private static Path shared(String rel) {
        Path p = Path.of(System.getProperty("bulkhead.shared.dir", "../shared"), rel);
        Assumptions.assumeTrue(Files.exists(p), "shared test data missing: " + p);
        return p;
    }

    @Test
    void stories260KReencodesTheReferenceStory() throws IOException {
        JsonNode ref = new ObjectMapper().readTree(shared("models/stories260K-hf/reference_greedy.json").toFile());
        int[] greedy = IntStream.range(0, ref.get("greedy_ids").size()).map(i -> ref.get("greedy_ids").get(i).asInt()).toArray();
        try (HfTokenizer tok = HfTokenizer.load(EmbeddedModel.extract(tmp), 1, 2)) {
            assertThat(tok.vocabSize()).isEqualTo(512);
            assertThat(tok.bosId()).isEqualTo(1);
            assertThat(tok.eosId()).isEqualTo(2);
            String text = tok.decode(greedy, true);
            assertThat(text).isEqualTo(ref.get("text").asText());
            // The reference was generated from BOS; its text re-encodes to BOS + the same ids (see SOURCE.txt).
            int[] reencoded = tok.encode(text, true);
            assertThat(reencoded[0]).isEqualTo(1);
            assertThat(java.util.Arrays.copyOfRange(reencoded, 1, reencoded.length))
                    .containsExactly(java.util.Arrays.copyOf(greedy, reencoded.length - 1));
        }
    }

    @Test
    void vocabularyLookups() {
        try (HfTokenizer tok = HfTokenizer.load(EmbeddedModel.extract(tmp), 1, 2)) {
            assertThat(tok.tokenText(1)).isEqualTo("<s>");
            assertThat(tok.tokenId("</s>")).isEqualTo(2);
            assertThat(tok.tokenId("no-such-token")).isEqualTo(-1);
            int[] ids = tok.encode("Once upon a time", false);
            assertThat(ids).isNotEmpty().doesNotContain(1);
            assertThat(tok.tokenText(ids[0])).startsWith("\u2581");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"Hello world", "Grüße, 世界! 🚀 naïve café", "tabs\tand\nnewlines\n\n  spaces", "Ünïcödé ∑ ∫ ≠"})
    void unicodeRoundTripsOnTheLlama3Tokenizer(String text) {
        try (HfTokenizer tok = HfTokenizer.load(shared("models/llama3.1-tokenizer"), -1, -1)) {
            assertThat(tok.bosId()).isEqualTo(128000);
            int[] ids = tok.encode(text, true);
            assertThat(ids[0]).isEqualTo(128000);
            assertThat(tok.decode(ids, true)).isEqualTo(text);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"Hello world", "Grüße, 世界! 🚀 naïve café", "line one\nline two"})
    void unicodeRoundTripsOnTheQwen3AndLlama2Tokenizers(String text) {
        try (HfTokenizer qwen = HfTokenizer.load(shared("models/qwen3-tokenizer"), -1, -1)) {
            assertThat(qwen.decode(qwen.encode(text, false), false)).isEqualTo(text);
        }
        try (HfTokenizer llama2 = HfTokenizer.load(shared("models/llama2-tokenizer"), 1, 2)) {
            int[] ids = llama2.encode(text, true);
            assertThat(ids[0]).isEqualTo(1);
            assertThat(llama2.decode(ids, true)).isEqualTo(text);
        }
    }

    @Test
    void longInputIsNotTruncated() {
        try (HfTokenizer tok = HfTokenizer.load(EmbeddedModel.extract(tmp), 1, 2)) {
            String text = "Once upon a time there was a little girl. ".repeat(200);
            int[] ids = tok.encode(text, true);
            assertThat(ids.length).isGreaterThan(1000);
            assertThat(tok.decode(ids, true)).isEqualTo(text.stripTrailing() + (text.endsWith(" ") ? " " : ""));
        }
    }

    @Test
    void missingTokenizerNamesTheFile() {
        assertThatThrownBy(() -> HfTokenizer.load(tmp.resolve("nowhere"), 1, 2))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("tokenizer.json").hasMessageContaining("not found");
    }
}
