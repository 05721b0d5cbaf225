package dev.bulkhead.model.embedded;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The default model shipped inside the jar: stories260K (MIT, Andrej Karpathy's llama2.c), in Hugging Face
 * safetensors form. Weights are memory-mapped, which needs a real file, so the first use copies the
 * resources into a cache directory; later uses find them there.
 */
public final class EmbeddedModel {

    /** The name users pass as {@code --model} to ask for it explicitly. */
    public static final String NAME = "stories260K";

    private static final String RESOURCE_DIR = "/dev/bulkhead/model/embedded/stories260K/";
    private static final List<String> FILES = List.of("config.json", "generation_config.json", "model.safetensors",
            "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "SOURCE.txt", "LICENSE");
    // NOTE: bump when the embedded files change so stale extractions are not reused.
    private static final String VERSION = "1";

    private static final String CHAT_TEMPLATE = "/dev/bulkhead/model/embedded/chat_template.jinja";

    private EmbeddedModel() {
    }

    /**
     * The plain chat template {@code bulkhead chat} uses for the embedded model, which ships none of its own: a
     * story model, so the conversation is rendered as one story written in turns (each message a passage, the
     * model continuing from the last), not as an instruction dialogue.
     */
    public static String chatTemplate() {
        try (InputStream in = EmbeddedModel.class.getResourceAsStream(CHAT_TEMPLATE)) {
            if (in == null) {
                throw new IllegalStateException("embedded resource " + CHAT_TEMPLATE + " is missing from the jar");
            }
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + CHAT_TEMPLATE + ": " + e.getMessage(), e);
        }
    }

    /**
     * The directory holding the extracted model under {@code cacheRoot}, extracting it first if needed.
     * Extraction goes through a temporary directory and an atomic rename, so concurrent first uses are safe.
     */
    public static Path extract(Path cacheRoot) {
        Path target = cacheRoot.resolve(NAME + "-v" + VERSION);
        if (isComplete(target)) {
            return target;
        }
        try {
            Files.createDirectories(cacheRoot);
            Path tmp = Files.createTempDirectory(cacheRoot, NAME + ".tmp");
            try {
                for (String f : FILES) {
                    try (InputStream in = EmbeddedModel.class.getResourceAsStream(RESOURCE_DIR + f)) {
                        if (in == null) {
                            throw new IllegalStateException("embedded model resource " + RESOURCE_DIR + f
                                    + " is missing from the jar");
                        }
                        Files.copy(in, tmp.resolve(f));
                    }
                }
                try {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException | java.nio.file.DirectoryNotEmptyException e) {
                    if (!isComplete(target)) {
                        throw e;
                    }
                }
            } finally {
                deleteTree(tmp);
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract the embedded model into " + cacheRoot + ": " + e.getMessage(), e);
        }
    }

    /** Extracts into the user's cache ({@code $XDG_CACHE_HOME/bulkhead} or {@code ~/.cache/bulkhead}). */
    public static Path extract() {
        return extract(defaultCacheRoot());
    }

    /**
     * The {@code bulkhead.cache.dir} system property when set (tests point it into target/), else
     * {@code $XDG_CACHE_HOME/bulkhead}, else {@code ~/.cache/bulkhead}, else the temp directory.
     */
    public static Path defaultCacheRoot() {
        String configured = System.getProperty("bulkhead.cache.dir");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg, "bulkhead");
        }
        String home = System.getProperty("user.home");
        if (home != null && Files.isWritable(Path.of(home))) {
            return Path.of(home, ".cache", "bulkhead");
        }
        return Path.of(System.getProperty("java.io.tmpdir"), "bulkhead-cache");
    }

    private static boolean isComplete(Path dir) {
        return FILES.stream().allMatch(f -> Files.isRegularFile(dir.resolve(f)));
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
