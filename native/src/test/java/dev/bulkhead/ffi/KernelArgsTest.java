package dev.bulkhead.ffi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The void** array handed to cuLaunchKernel: one 8-byte slot per parameter, each pointer at its slot. */
class KernelArgsTest {

    private static final KernelSignature SIG =
            KernelSignature.parse("k(ptr out, ptr in, i32 n, f32 eps, i64 count)");

    @Test
    void parsesSignatures() {
        assertThat(SIG.name()).isEqualTo("k");
        assertThat(SIG.params()).extracting(KernelSignature.Param::type)
                .containsExactly(ParamType.PTR, ParamType.PTR, ParamType.I32, ParamType.F32, ParamType.I64);
        assertThat(SIG.params().get(3).name()).isEqualTo("eps");
        assertThat(KernelSignature.parse("empty()").arity()).isZero();
        assertThatThrownBy(() -> KernelSignature.parse("k(double x)")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void packsEachValueInItsSlotAndPointsAtIt() {
        try (Arena arena = Arena.ofConfined()) {
            KernelArgs a = new KernelArgs(arena, SIG);
            a.ptr(0, new DevicePtr(0x7f00_0000_1000L)).ptr(1, DevicePtr.NULL).i32(2, -7).f32(3, 1e-5f).i64(4, 1L << 40);
            MemorySegment ptrs = a.pointers();
            MemorySegment values = a.values();
            for (int i = 0; i < 5; i++) {
                assertThat(ptrs.getAtIndex(ADDRESS, i).address()).isEqualTo(values.address() + 8L * i);
            }
            assertThat(values.get(JAVA_LONG, 0)).isEqualTo(0x7f00_0000_1000L);
            assertThat(values.get(JAVA_LONG, 8)).isZero();
            assertThat(values.get(JAVA_INT, 16)).isEqualTo(-7);
            assertThat(values.get(JAVA_FLOAT, 24)).isEqualTo(1e-5f);
            assertThat(values.get(JAVA_LONG, 32)).isEqualTo(1L << 40);
            // NOTE: reuse for the next launch overwrites in place; the pointer array is unchanged.
            a.i32(2, 9);
            assertThat(a.pointers()).isEqualTo(ptrs);
            assertThat(values.get(JAVA_INT, 16)).isEqualTo(9);
        }
    }

    @Test
    void rejectsWrongTypesIndicesAndUnsetParameters() {
        try (Arena arena = Arena.ofConfined()) {
            KernelArgs a = new KernelArgs(arena, SIG);
            assertThatThrownBy(() -> a.f32(2, 1f)).hasMessageContaining("parameter 2 (n) is I32, not F32");
            assertThatThrownBy(() -> a.i32(5, 1)).isInstanceOf(IndexOutOfBoundsException.class);
            a.ptr(0, DevicePtr.NULL).ptr(1, DevicePtr.NULL).i32(2, 1).i64(4, 1);
            assertThatThrownBy(a::pointers).hasMessageContaining("parameter 3 (eps) was never set");
        }
    }
}
