package dev.bulkhead.ffi;

/** The C type of one kernel parameter, as the driver copies it from the packed argument slot. */
public enum ParamType {
    /** A device pointer ({@code T*}), 8 bytes. */
    PTR(8),
    /** {@code int}, 4 bytes. */
    I32(4),
    /** {@code float}, 4 bytes. */
    F32(4),
    /** {@code long long} / {@code unsigned long long}, 8 bytes. */
    I64(8);

    private final int byteSize;

    ParamType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes the driver reads for this parameter. */
    public int byteSize() {
        return byteSize;
    }
}
