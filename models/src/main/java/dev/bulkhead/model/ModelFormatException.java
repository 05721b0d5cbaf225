package dev.bulkhead.model;

import java.nio.file.Path;

/**
 * A model file (weights, config, tokenizer) that cannot be used. The message always names the file and
 * the problem, e.g. {@code model.safetensors: header length 9999999 runs past the end of the file (1024 bytes)}.
 */
public class ModelFormatException extends RuntimeException {

    private final transient Path file;

    public ModelFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public ModelFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The offending file. */
    public Path file() {
        return file;
    }
}
