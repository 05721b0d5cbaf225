package dev.bulkhead.cuemu;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * For a test class that runs on the GPU target: binds it before the class ({@link GpuTarget#require()}, which
 * skips the class with the reason when there is none) and prints how long the class took there, since the
 * emulator's speed is what sizes these tests.
 */
public final class OnGpuTarget implements BeforeAllCallback, AfterAllCallback {

    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(OnGpuTarget.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        GpuTarget.require();
        context.getStore(NS).put("started", System.nanoTime());
    }

    @Override
    public void afterAll(ExtensionContext context) {
        Long started = context.getStore(NS).get("started", Long.class);
        if (started != null) {
            System.out.printf("[%s] %s took %.1f s%n", GpuTarget.emulated() ? "cuda-emulator" : "cuda",
                    context.getRequiredTestClass().getSimpleName(), (System.nanoTime() - started) / 1e9);
        }
    }
}
