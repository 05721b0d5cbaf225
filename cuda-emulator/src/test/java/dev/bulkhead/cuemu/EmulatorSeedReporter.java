package dev.bulkhead.cuemu;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Prints the emulator's seed when a test fails on it, so a failure that depends on the drawn thread order can
 * be run again in the same order ({@code -Dbulkhead.cuemu.seed=S} or {@code BULKHEAD_CUEMU_SEED=S}).
 */
public final class EmulatorSeedReporter implements TestWatcher {

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        if (CudaEmulator.isActive()) {
            System.err.println("[CUDA emulator] " + context.getDisplayName() + " failed with emulator seed "
                    + CudaEmulator.seed() + "; rerun with -Dbulkhead.cuemu.seed=" + CudaEmulator.seed());
        }
    }
}
