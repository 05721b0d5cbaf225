package dev.bulkhead.model.hub;

import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.List;

/**
 * Which repository files to download: a file is kept when its path matches any of the globs
 * ({@link java.nio.file.FileSystem#getPathMatcher} syntax; {@code *} does not cross {@code /}, {@code **} does).
 *
 * @param globs the include patterns, at least one
 */
public record HubFileFilter(List<String> globs) {

    /** What inference needs from a Hugging Face checkpoint, and nothing else (no .bin, .pth, .gguf copies). */
    public static final HubFileFilter DEFAULT = new HubFileFilter(List.of("config.json", "generation_config.json",
            "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "*.safetensors",
            "model.safetensors.index.json"));

    public HubFileFilter {
        globs = List.copyOf(globs);
        if (globs.isEmpty()) {
            throw new IllegalArgumentException("a file filter needs at least one glob");
        }
        for (String g : globs) {
            matcher(g); // NOTE: fail at construction, naming the glob, rather than at the first file.
        }
    }

    /** The default filter when {@code includes} is null or empty, else a filter of exactly those globs. */
    public static HubFileFilter ofIncludes(List<String> includes) {
        return includes == null || includes.isEmpty() ? DEFAULT : new HubFileFilter(includes);
    }

    /** Whether the repository file {@code path} is included. */
    public boolean matches(String path) {
        Path p = Path.of(path);
        return globs.stream().anyMatch(g -> matcher(g).matches(p));
    }

    private static PathMatcher matcher(String glob) {
        try {
            return FileSystems.getDefault().getPathMatcher("glob:" + glob);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad include glob '" + glob + "': " + e.getMessage(), e);
        }
    }
}
