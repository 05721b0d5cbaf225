package dev.bulkhead.model.gguf;

import java.lang.reflect.Array;

/**
 * A GGUF metadata array. {@code values} is a primitive or object array matching the element type:
 * {@code long[]} for every integer type (unsigned 64-bit values above {@code Long.MAX_VALUE} wrap),
 * {@code float[]} for FLOAT32, {@code double[]} for FLOAT64, {@code boolean[]} for BOOL, {@code String[]}
 * for STRING and {@code GgufArray[]} for nested arrays.
 */
public record GgufArray(GgufValueType elementType, Object values) {

    public GgufArray {
        if (elementType == null || values == null || !values.getClass().isArray()) {
            throw new IllegalArgumentException("GgufArray needs an element type and an array of values");
        }
    }

    public int length() {
        return Array.getLength(values);
    }

    @Override
    public String toString() {
        return "array<" + elementType + ">[" + length() + "]";
    }
}
