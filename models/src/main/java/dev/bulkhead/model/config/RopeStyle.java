package dev.bulkhead.model.config;

/** Which pairs of a head's dimensions RoPE rotates together. */
public enum RopeStyle {
    /** Hugging Face {@code rotate_half}: dimension i pairs with i + rotaryDim/2. */
    NEOX,
    /** Meta / llama2.c / GGUF llama: dimension 2i pairs with 2i+1. */
    INTERLEAVED
}
