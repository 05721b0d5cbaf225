package dev.bulkhead.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Llama2cPeerTest {

    @TempDir
    Path tmp;

    @Test
    void readsTheRateRunCPrintsLast() {
        assertThat(Llama2cPeer.parseRate("Once upon\nachieved tok/s: 97.512000\n")).hasValue(97.512);
        assertThat(Llama2cPeer.parseRate("no rate here")).isEmpty();
    }

    @Test
    void isSkippedWhenNeitherBinaryNorSourceExists() {
        assertThat(new Llama2cPeer(tmp.resolve("run")).ensureBuilt()).isEmpty();
    }
}
