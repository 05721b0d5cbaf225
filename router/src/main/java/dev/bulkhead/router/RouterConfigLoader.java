package dev.bulkhead.router;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Reads a {@link RouterConfig} from YAML ({@code .yaml}/{@code .yml}) or JSON (anything else). Unknown keys are
 * errors, so a typo never silently falls back to a default. Every failure is an
 * {@link IllegalArgumentException} naming the file and the problem.
 *
 * <pre>{@code
 * nodeMemoryBytes: 8589934592
 * models:
 *   - name: large-v3
 *     source: /models/large-v3
 *     memoryBudgetBytes: 2147483648
 *     engine: {kvCacheBytes: 1073741824, maxModelLen: 4096}
 *   - name: small-v1
 *     source: /models/small-v1
 * routing:
 *   version: 1
 *   routes:
 *     large: {targets: [{model: large-v3, weight: 95}, {model: small-v1, weight: 5}], fallbacks: [small-v1, cache]}
 * faults: {enabled: false}
 * }</pre>
 */
public final class RouterConfigLoader {

    private RouterConfigLoader() {
    }

    /** Reads and validates {@code file}; the result remembers it as its source, for hot reload. */
    public static RouterConfig load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read router config " + file + ": " + e, e);
        }
        return parse(text, isYaml(file), file.toString()).withSource(file);
    }

    /** Parses config text; {@code origin} names it in error messages. */
    public static RouterConfig parse(String text, boolean yaml, String origin) {
        ObjectMapper mapper = yaml ? YAMLMapper.builder().enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build()
                : JsonMapper.builder().enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();
        try {
            RouterConfig c = mapper.readValue(text, RouterConfig.class);
            if (c == null) {
                throw new IllegalArgumentException("router config " + origin + " is empty");
            }
            return c;
        } catch (JacksonException e) {
            Throwable cause = e.getCause() instanceof IllegalArgumentException iae ? iae : e;
            throw new IllegalArgumentException("invalid router config " + origin + ": "
                    + (cause == e ? e.getOriginalMessage() : cause.getMessage()), e);
        }
    }

    private static boolean isYaml(Path file) {
        String n = String.valueOf(file.getFileName()).toLowerCase(Locale.ROOT);
        return n.endsWith(".yaml") || n.endsWith(".yml");
    }
}
