package dev.bulkhead.router;

import dev.bulkhead.engine.internal.runner.BatchInput;
import dev.bulkhead.engine.internal.runner.CpuRunnerOptions;
import dev.bulkhead.engine.internal.runner.ForwardingModelRunner;
import dev.bulkhead.engine.internal.runner.ModelRunner;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;

/** A runner that consults the {@link FaultInjector} before every forward pass of one model. */
final class FaultyRunner extends ForwardingModelRunner {

    private final String model;
    private final FaultInjector faults;
    // NOTE: what HEAP_EXHAUSTION keeps lives as long as this runner, so the leak is freed with the engine that
    // leaked, as a real leak in one engine's state would be.
    private final java.util.List<long[]> leak = new java.util.ArrayList<>();

    private FaultyRunner(String model, FaultInjector faults, ModelRunner delegate) {
        super(delegate);
        this.model = model;
        this.faults = faults;
    }

    /** Wraps {@code base} for {@code model}; building fails with OutOfMemoryError while that fault is on. */
    static ModelRunnerFactory factory(String model, FaultInjector faults, ModelRunnerFactory base) {
        ModelRunnerFactory checked = ModelRunnerFactory.decorating((weights, options) -> {
            if (faults.active(model, Fault.OUT_OF_MEMORY)) {
                throw new OutOfMemoryError("injected: cannot allocate the KV pool of " + options.numBlocks()
                        + " blocks for model " + model);
            }
            return base.create(weights, options);
        }, (runner, options) -> runner);
        // NOTE: decorating keeps base's KV element size (2 bytes on CUDA) that a lambda would lose.
        return new ModelRunnerFactory() {
            @Override
            public ModelRunner create(dev.bulkhead.model.arch.ModelWeights weights, CpuRunnerOptions options) {
                return new FaultyRunner(model, faults, checked.create(weights, options));
            }

            @Override
            public int kvBytesPerElement() {
                return base.kvBytesPerElement();
            }
        };
    }

    @Override
    public float[] forward(BatchInput batch) {
        if (faults.fire(model, Fault.NATIVE_CRASH)) {
            NativeCrash.segfault();
        }
        if (faults.fire(model, Fault.HEAP_EXHAUSTION)) {
            while (true) {
                leak.add(new long[1 << 20]);
            }
        }
        if (faults.fire(model, Fault.WORKER_HANG)) {
            // NOTE: only the engine that took the fault hangs; one a watchdog builds in its place starts clean.
            faults.hangWhileHanging(model);
        }
        if (faults.active(model, Fault.OUT_OF_MEMORY)) {
            throw new OutOfMemoryError("injected: allocation failed in a forward pass of model " + model);
        }
        if (faults.active(model, Fault.STEP_EXCEPTION)) {
            throw new IllegalStateException("injected: forward pass of model " + model + " failed");
        }
        if (faults.active(model, Fault.HUNG_STEP)) {
            faults.hangWhileActive(model);
        }
        if (faults.active(model, Fault.SLOW_STEPS)) {
            try {
                Thread.sleep(faults.spec().slowStepMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return delegate.forward(batch);
    }

}
