package dev.bulkhead.engine.internal.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Host bf16 rounding matches __float2bfloat16 (round to nearest even). */
class Bf16Test {

    @Test
    void roundsToNearestEven() {
        assertThat(Bf16.fromFloat(1.0f)).isEqualTo((short) 0x3f80);
        // 1 + 2^-8 is exactly between 1 and 1 + 2^-7: ties to the even mantissa (1.0)
        assertThat(Bf16.fromFloat(1.0f + 0x1p-8f)).isEqualTo((short) 0x3f80);
        // 1 + 3 * 2^-8 is between 1 + 2^-7 (odd) and 1 + 2^-6: ties to 1 + 2^-6
        assertThat(Bf16.fromFloat(1.0f + 3 * 0x1p-8f)).isEqualTo((short) 0x3f82);
        assertThat(Bf16.toFloat(Bf16.fromFloat(-2.5f))).isEqualTo(-2.5f);
        assertThat(Bf16.toFloat(Bf16.fromFloat(Float.POSITIVE_INFINITY))).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(Float.isNaN(Bf16.toFloat(Bf16.fromFloat(Float.NaN)))).isTrue();
        assertThat(Math.abs(Bf16.toFloat(Bf16.fromFloat(3.14159f)) - 3.14159f)).isLessThan(3.14159f / 256);
    }
}
