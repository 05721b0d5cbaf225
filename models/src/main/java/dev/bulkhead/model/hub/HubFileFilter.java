package dev.bulkhead.model.hub;

import java.util.List;
import java.util.regex.Pattern;

/**
 * Which repository files to download: a file is kept when its path matches any of the globs, matched as
 * huggingface-cli's {@code --include} matches them (Python's {@code fnmatch}): {@code *} matches any run of
 * characters, {@code /} included, so {@code *.onnx} keeps {@code onnx/model.onnx}; {@code ?} matches one
 * character, {@code [abc]} and {@code [!abc]} a set; a glob ending in {@code /} keeps everything under that folder.
 *
 * @param globs    the include patterns, at least one
 * @param excludes patterns of files dropped even when included
 */
public record HubFileFilter(List<String> globs, List<String> excludes) {

    /**
     * What inference needs from a Hugging Face checkpoint, and nothing else (no .bin, .pth, .gguf copies): files at
     * the top of the repository only, since {@code *.safetensors} would also match copies in subfolders.
     */
    public static final HubFileFilter DEFAULT = new HubFileFilter(List.of("config.json", "generation_config.json",
            "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "*.safetensors",
            "model.safetensors.index.json"), List.of("*/*"));

    public HubFileFilter {
        globs = List.copyOf(globs);
        excludes = List.copyOf(excludes);
        if (globs.isEmpty()) {
            throw new IllegalArgumentException("a file filter needs at least one glob");
        }
        if (globs.stream().anyMatch(String::isBlank) || excludes.stream().anyMatch(String::isBlank)) {
            throw new IllegalArgumentException("an include glob is empty");
        }
    }

    /** A filter of these includes and no excludes. */
    public HubFileFilter(List<String> globs) {
        this(globs, List.of());
    }

    /** The default filter when {@code includes} is null or empty, else a filter of exactly those globs. */
    public static HubFileFilter ofIncludes(List<String> includes) {
        return includes == null || includes.isEmpty() ? DEFAULT : new HubFileFilter(includes);
    }

    /** Whether the repository file {@code path} is included. */
    public boolean matches(String path) {
        return globs.stream().anyMatch(g -> regex(g).matcher(path).matches())
                && excludes.stream().noneMatch(g -> regex(g).matcher(path).matches());
    }

    /** Python's {@code fnmatch.translate}, after huggingface_hub's rule that {@code dir/} means {@code dir/*}. */
    static Pattern regex(String glob) {
        String g = glob.endsWith("/") ? glob + "*" : glob;
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < g.length(); i++) {
            char c = g.charAt(i);
            if (c == '*') {
                re.append(".*");
            } else if (c == '?') {
                re.append('.');
            } else if (c == '[') {
                int end = classEnd(g, i);
                if (end < 0) {
                    re.append("\\["); // NOTE: an unclosed '[' is a literal, as in fnmatch.
                } else {
                    String body = g.substring(i + 1, end);
                    boolean negated = body.startsWith("!");
                    if (negated) {
                        body = body.substring(1);
                    }
                    re.append('[').append(negated ? "^" : "").append(body.replace("\\", "\\\\").replace("[", "\\["))
                            .append(']');
                    i = end;
                }
            } else {
                re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.toString(), Pattern.DOTALL);
    }

    /** The index of the ']' closing the set that opens at {@code open}, or -1. */
    private static int classEnd(String g, int open) {
        int j = open + 1;
        if (j < g.length() && g.charAt(j) == '!') {
            j++;
        }
        if (j < g.length() && g.charAt(j) == ']') {
            j++; // NOTE: a ']' right after '[' or '[!' belongs to the set.
        }
        int end = g.indexOf(']', j);
        return end;
    }
}
