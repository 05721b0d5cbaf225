package dev.bulkhead.model.gguf;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The key/value metadata of a GGUF file, in file order. Scalars are held as {@link Long} (every integer
 * type), {@link Float}, {@link Double}, {@link Boolean} or {@link String}; arrays as {@link GgufArray}.
 * Typed getters return empty when the key is absent or holds a value of another kind.
 */
public final class GgufMetadata {

    private final Map<String, Object> values;
    private final Map<String, GgufValueType> types;

    GgufMetadata(Map<String, Object> values, Map<String, GgufValueType> types) {
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
        this.types = Map.copyOf(types);
    }

    /** Every key, in file order. */
    public Set<String> keys() {
        return values.keySet();
    }

    public boolean contains(String key) {
        return values.containsKey(key);
    }

    /** The stored type of {@code key}. */
    public Optional<GgufValueType> type(String key) {
        return Optional.ofNullable(types.get(key));
    }

    /** The raw value (see the class comment for the Java types). */
    public Optional<Object> get(String key) {
        return Optional.ofNullable(values.get(key));
    }

    public Optional<String> getString(String key) {
        return values.get(key) instanceof String s ? Optional.of(s) : Optional.empty();
    }

    /** Any integer type, widened to long. */
    public OptionalLong getLong(String key) {
        return values.get(key) instanceof Long l ? OptionalLong.of(l) : OptionalLong.empty();
    }

    /** Any float or integer type, widened to double. */
    public OptionalDouble getDouble(String key) {
        return switch (values.get(key)) {
            case Float f -> OptionalDouble.of(f);
            case Double d -> OptionalDouble.of(d);
            case Long l -> OptionalDouble.of(l);
            case null, default -> OptionalDouble.empty();
        };
    }

    public Optional<Boolean> getBoolean(String key) {
        return values.get(key) instanceof Boolean b ? Optional.of(b) : Optional.empty();
    }

    public Optional<GgufArray> getArray(String key) {
        return values.get(key) instanceof GgufArray a ? Optional.of(a) : Optional.empty();
    }

    /** An array of strings (a copy). */
    public Optional<String[]> getStringArray(String key) {
        return getArray(key).filter(a -> a.values() instanceof String[]).map(a -> ((String[]) a.values()).clone());
    }

    /** An array of 32-bit floats (a copy). */
    public Optional<float[]> getFloatArray(String key) {
        return getArray(key).filter(a -> a.values() instanceof float[]).map(a -> ((float[]) a.values()).clone());
    }

    /** An array of any integer type, widened to long (a copy). */
    public Optional<long[]> getLongArray(String key) {
        return getArray(key).filter(a -> a.values() instanceof long[]).map(a -> ((long[]) a.values()).clone());
    }

    /**
     * The Jinja chat template the model was trained with: {@code tokenizer.chat_template} (the key llama.cpp
     * writes), else {@code tokenizer.ggml.chat_template}.
     */
    public Optional<String> chatTemplate() {
        return getString("tokenizer.chat_template").or(() -> getString("tokenizer.ggml.chat_template"));
    }

    /** {@code general.architecture}. */
    public Optional<String> architecture() {
        return getString("general.architecture");
    }

    @Override
    public String toString() {
        return "GgufMetadata" + keys();
    }
}
