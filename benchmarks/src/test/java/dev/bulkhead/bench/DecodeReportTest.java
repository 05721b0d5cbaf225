package dev.bulkhead.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.model.synth.ModelShapes;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DecodeReportTest {

    @TempDir
    Path tmp;

    private static DecodeReport report() {
        DecodeReport r = new DecodeReport("stories110m", ModelShapes.get("stories110m").config());
        r.bandwidth(1, 20e9);
        r.bytesPerToken("f32", 400_000_000L);
        r.add(new DecodeResult("bulkhead", "f32", 1, 100, List.of(2.0), ""));
        r.add(new DecodeResult("jlama", "f32", 1, 100, List.of(4.0), ""));
        r.add(new DecodeResult("llama2.c", "f32", 1, 100, List.of(1.0), ""));
        r.add(new DecodeResult("bulkhead", "f32", 2, 100, List.of(1.0), ""));
        return r;
    }

    @Test
    void ratiosCompareTheSameDtypeAndThreadCount() {
        DecodeReport r = report();
        DecodeResult bulkhead1 = r.results().get(0);
        assertThat(r.weightGBps(bulkhead1)).isCloseTo(20.0, within(1e-9));
        assertThat(r.bandwidthFraction(bulkhead1)).hasValueSatisfying(f -> assertThat(f).isCloseTo(1.0, within(1e-9)));
        assertThat(r.ratio(bulkhead1, "jlama")).hasValueSatisfying(x -> assertThat(x).isCloseTo(2.0, within(1e-9)));
        assertThat(r.ratio(bulkhead1, "llama2.c")).hasValueSatisfying(x -> assertThat(x).isCloseTo(0.5, within(1e-9)));
        DecodeResult bulkhead2 = r.results().get(3);
        assertThat(r.ratio(bulkhead2, "jlama")).isEmpty();
        assertThat(r.bandwidthFraction(bulkhead2)).isEmpty();
        assertThat(r.table()).contains("bulkhead" + " ".repeat(13) + "f32         1      50.0").contains("2.00").contains("100%");
    }

    @Test
    void jsonHoldsEveryRowWithItsDerivedFigures() throws IOException {
        Path file = tmp.resolve("out/decode.json");
        DecodeReport r = report();
        r.setting("tokens", 100);
        r.writeJson(file);
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        assertThat(root.path("shape").asText()).isEqualTo("stories110m");
        assertThat(root.path("readBandwidthGBps").path("1").asDouble()).isEqualTo(20.0);
        assertThat(root.path("settings").path("tokens").asInt()).isEqualTo(100);
        JsonNode first = root.path("results").get(0);
        assertThat(first.path("bestTokPerSec").asDouble()).isEqualTo(50.0);
        assertThat(first.path("vsJlama").asDouble()).isEqualTo(2.0);
        assertThat(first.path("vsLlama2c").asDouble()).isEqualTo(0.5);
        assertThat(first.path("fractionOfBandwidth").asDouble()).isEqualTo(1.0);
        assertThat(root.path("results")).hasSize(4);
    }
}
