package dev.bulkhead.model.gguf;

import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Translates llama.cpp tensor names ({@code blk.3.attn_q.weight}) to Hugging Face names and back. */
public final class GgufTensorNames {

    private static final Pattern BLOCK = Pattern.compile("blk\\.(\\d+)\\.([a-z_]+)\\.(weight|bias)");

    private static final Map<String, String> GLOBAL = Map.of(
            "token_embd", "model.embed_tokens",
            "output_norm", "model.norm",
            "output", "lm_head");

    private static final Map<String, String> PER_LAYER = Map.ofEntries(
            Map.entry("attn_norm", "input_layernorm"),
            Map.entry("attn_q", "self_attn.q_proj"),
            Map.entry("attn_k", "self_attn.k_proj"),
            Map.entry("attn_v", "self_attn.v_proj"),
            Map.entry("attn_output", "self_attn.o_proj"),
            Map.entry("attn_q_norm", "self_attn.q_norm"),
            Map.entry("attn_k_norm", "self_attn.k_norm"),
            Map.entry("ffn_norm", "post_attention_layernorm"),
            Map.entry("ffn_gate", "mlp.gate_proj"),
            Map.entry("ffn_up", "mlp.up_proj"),
            Map.entry("ffn_down", "mlp.down_proj"));

    private GgufTensorNames() {
    }

    /** The Hugging Face name of a llama.cpp tensor name, or empty when there is no counterpart. */
    public static Optional<String> toHuggingFace(String ggufName) {
        Matcher m = BLOCK.matcher(ggufName);
        if (m.matches()) {
            String part = PER_LAYER.get(m.group(2));
            return part == null ? Optional.empty()
                    : Optional.of("model.layers." + m.group(1) + "." + part + "." + m.group(3));
        }
        int dot = ggufName.lastIndexOf('.');
        if (dot < 0) {
            return Optional.empty();
        }
        String suffix = ggufName.substring(dot + 1);
        String base = GLOBAL.get(ggufName.substring(0, dot));
        return base == null || !(suffix.equals("weight") || suffix.equals("bias"))
                ? Optional.empty() : Optional.of(base + "." + suffix);
    }
}
