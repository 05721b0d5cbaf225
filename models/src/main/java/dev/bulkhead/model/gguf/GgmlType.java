package dev.bulkhead.model.gguf;

import dev.bulkhead.model.tensor.DType;
import java.util.Map;

/** ggml tensor type ids as GGUF stores them, and which of them Bulkhead can load. */
final class GgmlType {

    private static final Map<Integer, DType> SUPPORTED = Map.of(
            0, DType.F32, 1, DType.F16, 2, DType.Q4_0, 8, DType.Q8_0, 12, DType.Q4_K, 14, DType.Q6_K, 30, DType.BF16);

    /** Names of ggml's other types, only for error messages. */
    private static final Map<Integer, String> OTHER_NAMES = Map.ofEntries(
            Map.entry(3, "Q4_1"), Map.entry(6, "Q5_0"), Map.entry(7, "Q5_1"), Map.entry(9, "Q8_1"),
            Map.entry(10, "Q2_K"), Map.entry(11, "Q3_K"), Map.entry(13, "Q5_K"), Map.entry(15, "Q8_K"),
            Map.entry(16, "IQ2_XXS"), Map.entry(17, "IQ2_XS"), Map.entry(18, "IQ3_XXS"), Map.entry(19, "IQ1_S"),
            Map.entry(20, "IQ4_NL"), Map.entry(21, "IQ3_S"), Map.entry(22, "IQ2_S"), Map.entry(23, "IQ4_XS"),
            Map.entry(24, "I8"), Map.entry(25, "I16"), Map.entry(26, "I32"), Map.entry(27, "I64"),
            Map.entry(28, "F64"), Map.entry(29, "IQ1_M"), Map.entry(34, "TQ1_0"), Map.entry(35, "TQ2_0"));

    private GgmlType() {
    }

    /** The DType of a ggml type id, or null when Bulkhead cannot load it. */
    static DType toDType(long id) {
        return id < 0 || id > Integer.MAX_VALUE ? null : SUPPORTED.get((int) id);
    }

    /** The ggml type id of a DType. */
    static int idOf(DType type) {
        return SUPPORTED.entrySet().stream().filter(e -> e.getValue() == type).findFirst()
                .orElseThrow().getKey();
    }

    /** "3 (Q4_1)" or "99 (unknown)", for messages. */
    static String describe(long id) {
        String name = id < 0 || id > Integer.MAX_VALUE ? null : OTHER_NAMES.get((int) id);
        return id + " (" + (name == null ? "unknown" : name) + ")";
    }

    static String supportedList() {
        return "F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K";
    }
}
