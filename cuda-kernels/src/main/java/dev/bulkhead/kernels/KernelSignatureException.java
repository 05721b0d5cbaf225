package dev.bulkhead.kernels;

/**
 * The kernel index ({@link Kernel}) and a kernel's C signature in the loaded module disagree about its
 * parameters: launching with the index's packing would hand the kernel wrong argument bytes.
 */
public final class KernelSignatureException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    public KernelSignatureException(String message) {
        super(message);
    }
}
