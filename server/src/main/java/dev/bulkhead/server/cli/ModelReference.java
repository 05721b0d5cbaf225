package dev.bulkhead.server.cli;

import dev.bulkhead.model.embedded.EmbeddedModel;
import dev.bulkhead.model.hub.CachedModel;
import dev.bulkhead.model.hub.HubCache;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What {@code --model} names, resolved as Ollama and vLLM resolve it: a file or directory when one exists, else a
 * hub repository id ({@code ORG/NAME}) found in the pull cache.
 *
 * @param spec what to load ({@code ModelLoader}'s argument: a path, or null for the embedded model)
 * @param name what to call the model in summaries: the repository id, the file name or the embedded name
 */
record ModelReference(String spec, String name) {

    private static final Pattern REPO_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*");

    /** Resolves {@code model} (null for the embedded model) against {@code cache}. */
    static ModelReference resolve(String model, HubCache cache) {
        if (model == null || model.isBlank() || model.equals(EmbeddedModel.NAME)) {
            return new ModelReference(null, EmbeddedModel.NAME);
        }
        Path path = Path.of(model);
        if (Files.exists(path) || !REPO_ID.matcher(model).matches()) {
            // NOTE: a missing path is left to the loader, whose error names it.
            Path file = path.toAbsolutePath().normalize().getFileName();
            return new ModelReference(model, file == null ? model : file.toString());
        }
        Optional<CachedModel> pulled = cache.find(model);
        if (pulled.isEmpty()) {
            throw new IllegalArgumentException(model + " is neither a file nor a directory here, nor a model pulled "
                    + "into " + cache.root() + "; download it with: ./bulkhead pull " + model);
        }
        List<String> missing = cache.missing(pulled.get());
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException(model + " was only partly pulled into " + pulled.get().path()
                    + " (no " + String.join(", ", missing) + "); get the whole model with: ./bulkhead pull " + model);
        }
        return new ModelReference(pulled.get().path().toString(), model);
    }
}
