package dev.bulkhead.kernels;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.ffi.DevicePtr;
import dev.bulkhead.ffi.KernelArgs;
import dev.bulkhead.ffi.KernelSignature;
import dev.bulkhead.ffi.ParamType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Java index agrees with the CUDA sources: every kernel exists with the same parameter count and types
 * (pointer, int, float, long long) in the same order, and every signature packs for a launch.
 */
class KernelIndexTest {

    private static final Pattern KERNEL = Pattern.compile("extern \"C\" __global__ void (\\w+)\\(([^)]*)\\)");

    private static Map<String, List<ParamType>> sourceSignatures() throws IOException {
        Map<String, List<ParamType>> out = new HashMap<>();
        try (Stream<Path> files = Files.list(Path.of("src/main/cuda"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".cuh") || p.toString().endsWith(".cu")).toList()) {
                Matcher m = KERNEL.matcher(Files.readString(f));
                while (m.find()) {
                    List<ParamType> types = new ArrayList<>();
                    for (String p : m.group(2).split(",")) {
                        types.add(cType(p.replaceAll("\\s+", " ").trim()));
                    }
                    out.put(m.group(1), types);
                }
            }
        }
        return out;
    }

    private static ParamType cType(String param) {
        if (param.contains("*")) {
            return ParamType.PTR;
        }
        String type = param.substring(0, param.lastIndexOf(' '));
        return switch (type) {
            case "int" -> ParamType.I32;
            case "float" -> ParamType.F32;
            case "long long", "unsigned long long" -> ParamType.I64;
            default -> throw new AssertionError("unmapped C parameter type: " + param);
        };
    }

    @Test
    void everyIndexedKernelMatchesItsCudaDefinition() throws IOException {
        Map<String, List<ParamType>> source = sourceSignatures();
        assertThat(source.keySet()).containsExactlyInAnyOrderElementsOf(
                Arrays.stream(Kernel.values()).map(Kernel::symbol).toList());
        for (Kernel k : Kernel.values()) {
            assertThat(k.signature().params()).extracting(KernelSignature.Param::type).as(k.symbol())
                    .containsExactlyElementsOf(source.get(k.symbol()));
        }
    }

    @Test
    void everySignaturePacksOneSlotPerParameter() {
        try (Arena arena = Arena.ofConfined()) {
            for (Kernel k : Kernel.values()) {
                KernelArgs a = new KernelArgs(arena, k.signature());
                List<KernelSignature.Param> params = k.signature().params();
                for (int i = 0; i < params.size(); i++) {
                    switch (params.get(i).type()) {
                        case PTR -> a.ptr(i, new DevicePtr(0x1000L * (i + 1)));
                        case I32 -> a.i32(i, i + 1);
                        case F32 -> a.f32(i, i + 0.5f);
                        case I64 -> a.i64(i, (long) i << 33);
                    }
                }
                var ptrs = a.pointers();
                for (int i = 0; i < params.size(); i++) {
                    var slot = ptrs.getAtIndex(ValueLayout.ADDRESS, i).reinterpret(8);
                    Object value = switch (params.get(i).type()) {
                        case PTR -> slot.get(ValueLayout.JAVA_LONG, 0);
                        case I32 -> slot.get(ValueLayout.JAVA_INT, 0);
                        case F32 -> slot.get(ValueLayout.JAVA_FLOAT, 0);
                        case I64 -> slot.get(ValueLayout.JAVA_LONG, 0);
                    };
                    Object expected = switch (params.get(i).type()) {
                        case PTR -> 0x1000L * (i + 1);
                        case I32 -> i + 1;
                        case F32 -> i + 0.5f;
                        case I64 -> (long) i << 33;
                    };
                    assertThat(value).as("%s parameter %d", k.symbol(), i).isEqualTo(expected);
                }
            }
        }
    }

    @Test
    void sharedMemoryOfThePrefillKernelFitsTheDefaultForCommonHeadDims() {
        assertThat(Kernel.prefillSharedBytes(128)).isLessThanOrEqualTo(48 * 1024);
        assertThat(Kernel.prefillSharedBytes(256)).isGreaterThan(48 * 1024).isLessThan(160 * 1024);
    }
}
