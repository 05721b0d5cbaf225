package dev.bulkhead.it;

import dev.bulkhead.cuemu.EmulatorSeedReporter;
import dev.bulkhead.cuemu.OnGpuTarget;
import dev.bulkhead.it.EngineFixtures.Backend;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link ContinuousBatchingTest}'s bodies on the CUDA backend (the emulator in every build): 32 concurrent
 * requests equal their solo runs, a too-small pool preempts and still matches, a shared prefix reuses cached
 * blocks with identical output. The emulator runs a third of the CPU's request lengths.
 */
@Tag("gpu")
@ExtendWith({OnGpuTarget.class, EmulatorSeedReporter.class})
class ContinuousBatchingGpuTest extends ContinuousBatchingTest {

    private static final Backend CUDA = Backend.cuda(3);

    @Override
    Backend backend() {
        return CUDA;
    }
}
