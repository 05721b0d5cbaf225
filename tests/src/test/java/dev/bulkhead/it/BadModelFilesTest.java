package dev.bulkhead.it;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.engine.InvalidRequestException;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.model.ModelFormatException;
import dev.bulkhead.model.ModelLoader;
import dev.bulkhead.model.embedded.EmbeddedModel;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every broken model a user can point Bulkhead at fails with a {@link ModelFormatException} that names the
 * file and the problem: never an NPE, an index error or a JVM crash.
 */
class BadModelFilesTest {

    @TempDir
    Path tmp;

    Path model;

    @BeforeEach
    void copyTheEmbeddedModel() throws IOException {
        Path src = EmbeddedModel.extract(tmp.resolve("cache"));
        model = tmp.resolve("model");
        Files.createDirectories(model);
        try (Stream<Path> files = Files.list(src)) {
            for (Path f : files.toList()) {
                Files.copy(f, model.resolve(f.getFileName()));
            }
        }
    }

    private Path weights() {
        return model.resolve("model.safetensors");
    }

    @Test
    void truncatedSafetensors() throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(weights().toFile(), "rw")) {
            f.setLength(f.length() - 1000);
        }
        assertThatThrownBy(() -> ModelLoader.load(model.toString())).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("model.safetensors").hasMessageContaining("truncated");
    }

    @Test
    void headerLengthPastTheEnd() throws IOException {
        byte[] bytes = Files.readAllBytes(weights());
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, bytes.length * 2L);
        Files.write(weights(), bytes);
        assertThatThrownBy(() -> ModelLoader.load(model.toString())).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("model.safetensors").hasMessageContaining("runs past the end of the file");
    }

    @Test
    void unknownDtype() throws IOException {
        replaceInHeader("\"dtype\":\"F32\"", "\"dtype\":\"I8\" ");
        assertThatThrownBy(() -> ModelLoader.load(model.toString())).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("model.safetensors").hasMessageContaining("unsupported dtype 'I8'");
    }

    @Test
    void tensorShapeNotMatchingTheConfig() throws IOException {
        String config = Files.readString(model.resolve("config.json")).replace("\"intermediate_size\": 172", "\"intermediate_size\": 128");
        Files.writeString(model.resolve("config.json"), config);
        assertThatThrownBy(() -> ModelLoader.load(model.toString())).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(model.toString())
                .hasMessageContaining("tensor model.layers.0.mlp.gate_proj.weight has shape [172, 64] but the config needs [128, 64]");
    }

    @Test
    void unknownArchitecture() throws IOException {
        String config = Files.readString(model.resolve("config.json")).replace("\"model_type\": \"llama\"", "\"model_type\": \"gpt2\"");
        Files.writeString(model.resolve("config.json"), config);
        assertThatThrownBy(() -> ModelLoader.load(model.toString())).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("config.json").hasMessageContaining("unknown architecture 'gpt2'");
    }

    @Test
    void missingTokenizer() throws IOException {
        Files.delete(model.resolve("tokenizer.json"));
        assertThatThrownBy(() -> ModelLoader.load(model.toString())).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("tokenizer.json").hasMessageContaining("tokenizer not found");
    }

    @Test
    void corruptGgufMagicAndVersion() throws IOException {
        Path gguf = SharedData.require("models/stories260K-gguf/stories260K.gguf");
        byte[] bytes = Files.readAllBytes(gguf);
        Path badMagic = tmp.resolve("magic.gguf");
        byte[] m = bytes.clone();
        m[0] = 'X';
        Files.write(badMagic, m);
        assertThatThrownBy(() -> ModelLoader.load(badMagic.toString())).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("magic.gguf").hasMessageContaining("magic");
        Path badVersion = tmp.resolve("version.gguf");
        byte[] v = bytes.clone();
        ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).putInt(4, 99);
        Files.write(badVersion, v);
        assertThatThrownBy(() -> ModelLoader.load(badVersion.toString())).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("version.gguf").hasMessageContaining("version 99");
        Path truncated = tmp.resolve("truncated.gguf");
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length / 2));
        assertThatThrownBy(() -> ModelLoader.load(truncated.toString())).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("truncated.gguf");
    }

    @Test
    void truncatedLlama2cCheckpoint() throws IOException {
        Path bin = SharedData.require("models/stories260K/stories260K.bin");
        Path dir = tmp.resolve("l2c");
        Files.createDirectories(dir);
        Files.write(dir.resolve("model.bin"), Arrays.copyOf(Files.readAllBytes(bin), 5000));
        Files.copy(bin.resolveSibling("tok512.bin"), dir.resolve("tokenizer.bin"));
        assertThatThrownBy(() -> ModelLoader.load(dir.resolve("model.bin").toString()))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("model.bin");
    }

    @Test
    void llama2cWithoutItsTokenizer() throws IOException {
        Path bin = SharedData.require("models/stories260K/stories260K.bin");
        Path lonely = tmp.resolve("lonely");
        Files.createDirectories(lonely);
        Files.copy(bin, lonely.resolve("stories260K.bin"));
        assertThatThrownBy(() -> ModelLoader.load(lonely.resolve("stories260K.bin").toString()))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("tokenizer not found");
    }

    @Test
    void promptLongerThanTheContext() {
        EngineOptions options = EngineOptions.defaults().withThreads(1).withMaxModelLen(32);
        try (LlmEngine engine = new LlmEngine(ModelLoader.load(model.toString()), options, new SimpleMeterRegistry())) {
            String text = "Once upon a time there was a dog. ".repeat(10);
            int n = engine.tokenizer().encode(text, true).length;
            assertThatThrownBy(() -> engine.generate(GenerateRequest.of(text, SamplingParams.greedy(4))))
                    .isInstanceOf(InvalidRequestException.class)
                    .hasMessageContaining("prompt has " + n + " tokens but the context holds 32");
        }
    }

    @Test
    void nonexistentPath() {
        assertThatThrownBy(() -> ModelLoader.load(tmp.resolve("nothing-here").toString()))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("no such file or directory");
    }

    private void replaceInHeader(String from, String to) throws IOException {
        byte[] bytes = Files.readAllBytes(weights());
        long headerLen = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        String header = new String(bytes, 8, (int) headerLen, StandardCharsets.UTF_8);
        byte[] patched = header.replaceFirst(java.util.regex.Pattern.quote(from), to).getBytes(StandardCharsets.UTF_8);
        if (patched.length != headerLen) {
            throw new IllegalStateException("patch must keep the header length");
        }
        System.arraycopy(patched, 0, bytes, 8, patched.length);
        Files.write(weights(), bytes);
    }
}
