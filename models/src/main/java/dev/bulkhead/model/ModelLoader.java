package dev.bulkhead.model;

import dev.bulkhead.model.arch.DecoderArchitecture;
import dev.bulkhead.model.arch.ModelWeights;
import dev.bulkhead.model.chat.ChatTemplates;
import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.embedded.EmbeddedModel;
import dev.bulkhead.model.gguf.GgufFile;
import dev.bulkhead.model.gguf.GgufModelConfig;
import dev.bulkhead.model.gguf.GgufTokenizers;
import dev.bulkhead.model.gguf.GgufWeightSource;
import dev.bulkhead.model.hf.HfConfigReader;
import dev.bulkhead.model.llama2c.Llama2cCheckpoint;
import dev.bulkhead.model.llama2c.Llama2cTokenizer;
import dev.bulkhead.model.safetensors.SafetensorsWeightSource;
import dev.bulkhead.model.tensor.WeightSource;
import dev.bulkhead.model.tokenizer.HfTokenizer;
import dev.bulkhead.model.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Opens a model from what a user names: a Hugging Face checkpoint directory, a {@code .gguf} file, a
 * llama2.c {@code .bin} (with its tokenizer beside it), or nothing / {@code stories260K} for the embedded
 * default. Every failure is a {@link ModelFormatException} naming the file and the problem.
 */
public final class ModelLoader {

    private ModelLoader() {
    }

    /** Loads {@code spec} (null or blank means the embedded default model). */
    public static LoadedModel load(String spec) {
        return load(spec, null);
    }

    /**
     * Loads {@code spec}; {@code tokenizerSpec} overrides the tokenizer of a llama2.c checkpoint
     * (ignored by formats that carry their own).
     */
    public static LoadedModel load(String spec, String tokenizerSpec) {
        long start = System.nanoTime();
        Path path = spec == null || spec.isBlank() || spec.equals(EmbeddedModel.NAME)
                ? EmbeddedModel.extract() : Path.of(spec);
        if (!Files.exists(path)) {
            throw new ModelFormatException(path, "no such file or directory");
        }
        String name = path.getFileName() == null ? "" : path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (Files.isDirectory(path)) {
            if (Files.isRegularFile(path.resolve("config.json"))) {
                return loadHf(path, start);
            }
            Optional<Path> gguf = single(path, ".gguf");
            if (gguf.isPresent()) {
                return loadGguf(gguf.get(), start);
            }
            throw new ModelFormatException(path, "is not a model directory: no config.json and no single .gguf file");
        }
        if (name.endsWith(".gguf")) {
            return loadGguf(path, start);
        }
        if (name.endsWith(".bin")) {
            return loadLlama2c(path, tokenizerSpec == null ? null : Path.of(tokenizerSpec), start);
        }
        if (name.endsWith(".safetensors") || name.equals("config.json")) {
            return loadHf(path.toAbsolutePath().getParent(), start);
        }
        throw new ModelFormatException(path, "unknown model format (expected a Hugging Face directory, .gguf or llama2.c .bin)");
    }

    /** Loads a Hugging Face checkpoint directory. */
    public static LoadedModel loadHf(Path dir, long startNanos) {
        ModelConfig config = HfConfigReader.read(dir.resolve("config.json"));
        Path tokenizerJson = dir.resolve(HfTokenizer.FILE);
        if (!Files.isRegularFile(tokenizerJson)) {
            throw new ModelFormatException(tokenizerJson, "tokenizer not found: a Hugging Face model directory needs "
                    + HfTokenizer.FILE);
        }
        SafetensorsWeightSource source = SafetensorsWeightSource.open(dir);
        return bind(dir, LoadedModel.ModelFormat.SAFETENSORS, config, source, () -> {
            Tokenizer tok = HfTokenizer.load(tokenizerJson, config.bosTokenId(), firstEos(config));
            return tok;
        }, hfChat(dir), startNanos);
    }

    private static ChatInfo hfChat(Path dir) {
        Path tc = dir.resolve("tokenizer_config.json");
        if (!Files.isRegularFile(tc)) {
            return new ChatInfo(Optional.empty(), Map.of());
        }
        return ChatTemplates.fromTokenizerConfig(tc)
                .map(t -> new ChatInfo(Optional.of(t.template().source()), t.specialTokens()))
                .orElseGet(() -> new ChatInfo(Optional.empty(), Map.of()));
    }

    private static LoadedModel loadGguf(Path file, long startNanos) {
        GgufFile gguf = GgufFile.open(file);
        try {
            ModelConfig config = GgufModelConfig.from(gguf);
            GgufWeightSource source = new GgufWeightSource(gguf);
            return bind(file, LoadedModel.ModelFormat.GGUF, config, source, () -> GgufTokenizers.from(gguf),
                    new ChatInfo(gguf.chatTemplate(), Map.of()), startNanos);
        } catch (RuntimeException e) {
            gguf.close();
            throw e;
        }
    }

    private static LoadedModel loadLlama2c(Path bin, Path tokenizer, long startNanos) {
        Path tok = tokenizer != null ? tokenizer : findLlama2cTokenizer(bin);
        Llama2cCheckpoint ckpt = Llama2cCheckpoint.open(bin);
        return bind(bin, LoadedModel.ModelFormat.LLAMA2C, ckpt.config(), ckpt, () -> Llama2cTokenizer.load(tok),
                new ChatInfo(Optional.empty(), Map.of()), startNanos);
    }

    private static Path findLlama2cTokenizer(Path bin) {
        Path dir = bin.toAbsolutePath().getParent();
        Path plain = dir.resolve("tokenizer.bin");
        if (Files.isRegularFile(plain)) {
            return plain;
        }
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> toks = files.filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith("tok") && n.endsWith(".bin") && !p.equals(bin);
            }).toList();
            if (toks.size() == 1) {
                return toks.get(0);
            }
        } catch (IOException e) {
            throw new ModelFormatException(dir, "cannot list: " + e.getMessage(), e);
        }
        throw new ModelFormatException(bin, "tokenizer not found: put tokenizer.bin (or one tok*.bin) beside it, "
                + "or pass --tokenizer FILE");
    }

    private record ChatInfo(Optional<String> template, Map<String, Object> specialTokens) {
    }

    @FunctionalInterface
    private interface TokenizerFactory {
        Tokenizer open();
    }

    private static LoadedModel bind(Path origin, LoadedModel.ModelFormat format, ModelConfig config, WeightSource source,
                                    TokenizerFactory tokenizerFactory, ChatInfo chat, long startNanos) {
        Tokenizer tokenizer = null;
        try {
            ModelWeights weights = DecoderArchitecture.of(config.family()).bind(config, source);
            tokenizer = tokenizerFactory.open();
            if (tokenizer.vocabSize() > config.vocabSize()) {
                throw new ModelFormatException(origin, "the tokenizer has " + tokenizer.vocabSize()
                        + " tokens but the model's vocab_size is " + config.vocabSize());
            }
            long millis = (System.nanoTime() - startNanos) / 1_000_000;
            return new LoadedModel(origin, format, config, weights, tokenizer, chat.template(),
                    specialTokens(chat, tokenizer), source, millis);
        } catch (RuntimeException e) {
            if (tokenizer != null) {
                tokenizer.close();
            }
            source.close();
            throw e;
        }
    }

    /** Template variables: tokenizer_config.json's when it has them, else BOS/EOS text from the vocabulary. */
    private static Map<String, Object> specialTokens(ChatInfo chat, Tokenizer tokenizer) {
        if (!chat.specialTokens().isEmpty()) {
            return chat.specialTokens();
        }
        Map<String, Object> vars = new HashMap<>();
        if (tokenizer.bosId() >= 0) {
            vars.put("bos_token", tokenizer.tokenText(tokenizer.bosId()));
        }
        if (tokenizer.eosId() >= 0) {
            vars.put("eos_token", tokenizer.tokenText(tokenizer.eosId()));
        }
        return vars;
    }

    private static int firstEos(ModelConfig c) {
        int[] eos = c.eosTokenIds();
        return eos.length == 0 ? -1 : eos[0];
    }

    private static Optional<Path> single(Path dir, String suffix) {
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> found = files.filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(suffix)).toList();
            return found.size() == 1 ? Optional.of(found.get(0)) : Optional.empty();
        } catch (IOException e) {
            throw new ModelFormatException(dir, "cannot list: " + e.getMessage(), e);
        }
    }
}
