package dev.bulkhead.ffi;

/**
 * A device allocation owned by the {@link CudaContext} that made it (freed when the context closes).
 *
 * @param ptr      its first byte
 * @param byteSize its size
 */
public record DeviceBuffer(DevicePtr ptr, long byteSize) {

    /** The address {@code offsetBytes} into this buffer, bounds checked. */
    public DevicePtr at(long offsetBytes) {
        if (offsetBytes < 0 || offsetBytes > byteSize) {
            throw new IndexOutOfBoundsException("offset " + offsetBytes + " outside a buffer of " + byteSize + " bytes");
        }
        return ptr.plus(offsetBytes);
    }
}
