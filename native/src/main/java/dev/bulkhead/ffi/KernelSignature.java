package dev.bulkhead.ffi;

import java.util.List;

/**
 * The launch signature of one {@code extern "C"} kernel: its exported name and its parameters in order.
 *
 * @param name   the symbol in the module (unmangled)
 * @param params parameters in declaration order
 */
public record KernelSignature(String name, List<Param> params) {

    /** One parameter: its C name (for messages) and type. */
    public record Param(String name, ParamType type) {
    }

    public KernelSignature {
        params = List.copyOf(params);
        if (params.size() > 63) {
            throw new IllegalArgumentException(name + ": at most 63 parameters, got " + params.size());
        }
    }

    /**
     * Parses a compact signature, {@code "name(ptr out, ptr in, i32 n, f32 eps)"}, the form
     * {@code KernelIndex} writes next to each kernel's C prototype.
     */
    public static KernelSignature parse(String text) {
        int open = text.indexOf('(');
        int close = text.lastIndexOf(')');
        if (open < 1 || close < open) {
            throw new IllegalArgumentException("not a signature: " + text);
        }
        String name = text.substring(0, open).trim();
        String inner = text.substring(open + 1, close).trim();
        List<Param> params = inner.isEmpty() ? List.of() : java.util.Arrays.stream(inner.split(","))
                .map(String::trim).map(p -> {
                    String[] parts = p.split("\\s+");
                    if (parts.length != 2) {
                        throw new IllegalArgumentException(name + ": bad parameter '" + p + "'");
                    }
                    return new Param(parts[1], ParamType.valueOf(parts[0].toUpperCase(java.util.Locale.ROOT)));
                }).toList();
        return new KernelSignature(name, params);
    }

    public int arity() {
        return params.size();
    }
}
