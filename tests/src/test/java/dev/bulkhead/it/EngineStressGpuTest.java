package dev.bulkhead.it;

import dev.bulkhead.cuemu.EmulatorSeedReporter;
import dev.bulkhead.cuemu.OnGpuTarget;
import dev.bulkhead.it.EngineFixtures.Backend;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link EngineStressTest}'s seeded operations on the CUDA backend (the emulator in every build), with the KV
 * invariants checked after every step: every kind of ending happens, and the engine ends idle with every block
 * free and still serving. The emulator runs a quarter of the CPU's operations, with shorter requests.
 */
@Tag("gpu")
@ExtendWith({OnGpuTarget.class, EmulatorSeedReporter.class})
class EngineStressGpuTest extends EngineStressTest {

    private static final Backend CUDA = Backend.cuda(4);

    @Override
    Backend backend() {
        return CUDA;
    }
}
