package dev.bulkhead.ffi;

/** A device address ({@code CUdeviceptr}). Arithmetic in bytes; no ownership (see {@link DeviceBuffer}). */
public record DevicePtr(long address) {

    /** The null device pointer, passed for optional kernel arguments. */
    public static final DevicePtr NULL = new DevicePtr(0);

    /** This address plus {@code bytes}. */
    public DevicePtr plus(long bytes) {
        return new DevicePtr(address + bytes);
    }

    public boolean isNull() {
        return address == 0;
    }
}
