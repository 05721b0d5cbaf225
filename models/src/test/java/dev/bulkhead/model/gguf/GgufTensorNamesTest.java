package dev.bulkhead.model.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class GgufTensorNamesTest {

    @Test
    void mapsLlamaCppNamesToHuggingFaceNames() {
        assertThat(GgufTensorNames.toHuggingFace("token_embd.weight")).contains("model.embed_tokens.weight");
        assertThat(GgufTensorNames.toHuggingFace("output_norm.weight")).contains("model.norm.weight");
        assertThat(GgufTensorNames.toHuggingFace("output.weight")).contains("lm_head.weight");
        assertThat(GgufTensorNames.toHuggingFace("blk.0.attn_norm.weight"))
                .contains("model.layers.0.input_layernorm.weight");
        assertThat(GgufTensorNames.toHuggingFace("blk.12.attn_q.weight"))
                .contains("model.layers.12.self_attn.q_proj.weight");
        assertThat(GgufTensorNames.toHuggingFace("blk.3.attn_k.bias")).contains("model.layers.3.self_attn.k_proj.bias");
        assertThat(GgufTensorNames.toHuggingFace("blk.3.attn_v.bias")).contains("model.layers.3.self_attn.v_proj.bias");
        assertThat(GgufTensorNames.toHuggingFace("blk.1.attn_output.weight"))
                .contains("model.layers.1.self_attn.o_proj.weight");
        assertThat(GgufTensorNames.toHuggingFace("blk.1.attn_q_norm.weight"))
                .contains("model.layers.1.self_attn.q_norm.weight");
        assertThat(GgufTensorNames.toHuggingFace("blk.1.attn_k_norm.weight"))
                .contains("model.layers.1.self_attn.k_norm.weight");
        assertThat(GgufTensorNames.toHuggingFace("blk.2.ffn_norm.weight"))
                .contains("model.layers.2.post_attention_layernorm.weight");
        assertThat(GgufTensorNames.toHuggingFace("blk.2.ffn_gate.weight")).contains("model.layers.2.mlp.gate_proj.weight");
        assertThat(GgufTensorNames.toHuggingFace("blk.2.ffn_up.weight")).contains("model.layers.2.mlp.up_proj.weight");
        assertThat(GgufTensorNames.toHuggingFace("blk.2.ffn_down.weight")).contains("model.layers.2.mlp.down_proj.weight");
    }

    @Test
    void leavesUnknownNamesUnmapped() {
        assertThat(GgufTensorNames.toHuggingFace("rope_freqs.weight")).isEmpty();
        assertThat(GgufTensorNames.toHuggingFace("blk.0.ffn_gate_exps.weight")).isEmpty();
        assertThat(GgufTensorNames.toHuggingFace("output.scale")).isEmpty();
        assertThat(GgufTensorNames.toHuggingFace("weird")).isEmpty();
    }
}
