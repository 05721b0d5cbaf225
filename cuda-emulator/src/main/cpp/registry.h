// Turns a kernel's C signature into a KernelDef: the parameter layout cuFuncGetParamInfo reports (each
// parameter at the next offset aligned to its alignment, as the CUDA ABI packs them) and an invoker that
// unpacks the launch's copy of the arguments into a call.
#pragma once
#include <stddef.h>
#include <string.h>

#include <array>
#include <utility>

#include "emu.h"

namespace bkemu {

template <typename... A>
struct Signature {
    static constexpr size_t n = sizeof...(A);
    static constexpr std::array<size_t, n> sizes{sizeof(A)...};
    static constexpr std::array<size_t, n> aligns{alignof(A)...};
    static constexpr std::array<size_t, n> offsets = [] {
        std::array<size_t, n> o{};
        size_t at = 0;
        for (size_t i = 0; i < n; i++) {
            at = (at + aligns[i] - 1) / aligns[i] * aligns[i];
            o[i] = at;
            at += sizes[i];
        }
        return o;
    }();
    static constexpr size_t bytes = n == 0 ? 0 : offsets[n - 1] + sizes[n - 1];

    template <typename T>
    __attribute__((no_sanitize_address)) static T load(const unsigned char* p) {
        T v;
        memcpy(&v, p, sizeof(T));
        return v;
    }

    template <size_t... I>
    __attribute__((no_sanitize_address)) static void call(void* fn, const unsigned char* p, std::index_sequence<I...>) {
        reinterpret_cast<void (*)(A...)>(fn)(load<A>(p + offsets[I])...);
    }

    __attribute__((no_sanitize_address)) static void invoke(void* fn, const unsigned char* params) {
        call(fn, params, std::index_sequence_for<A...>{});
    }
};

template <typename... A>
constexpr KernelDef kernel_def(const char* name, void (*fn)(A...)) {
    using S = Signature<A...>;
    return KernelDef{name, reinterpret_cast<void*>(fn), static_cast<int>(S::n), S::offsets.data(), S::sizes.data(),
                     S::bytes, &S::invoke};
}

}  // namespace bkemu

#define BKEMU_KERNEL(name) bkemu::kernel_def(#name, &name)
