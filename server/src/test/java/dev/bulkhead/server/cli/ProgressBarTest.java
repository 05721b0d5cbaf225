package dev.bulkhead.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** The pull progress bar: one line per redraw that never wraps, and plain lines when not on a terminal. */
class ProgressBarTest {

    private static final String LONG_NAME = "onnx/decoder_model_merged_quantized.onnx_data";

    @Test
    void aRedrawFitsTheTerminalWidth() {
        for (int columns : new int[] {40, 60, 80, 120, 200}) {
            PullCommand.ProgressBar bar = new PullCommand.ProgressBar(new PrintWriter(new StringWriter()), true,
                    "downloading", columns);
            for (String name : new String[] {"config.json", LONG_NAME}) {
                String line = bar.line(name, 1_234_567_890L, 9_876_543_210L, System.nanoTime());
                assertThat(line.length()).as("%d columns: %s", columns, line).isLessThan(columns);
                assertThat(line).contains("12%");
            }
        }
        String wide = new PullCommand.ProgressBar(new PrintWriter(new StringWriter()), true, "downloading", 120)
                .line("config.json", 50, 100, System.nanoTime());
        assertThat(wide).contains("[###############---------------]").contains("MB/s");
    }

    @Test
    void withoutATerminalEachFileGetsAStartAndAnEndLine() {
        StringWriter sink = new StringWriter();
        PullCommand.ProgressBar bar = new PullCommand.ProgressBar(new PrintWriter(sink, true), false, "downloading", 80);
        bar.update("model.safetensors", 0, 1000);
        bar.update("model.safetensors", 500, 1000);
        bar.update("model.safetensors", 1000, 1000);
        assertThat(sink.toString().lines().toList()).hasSize(2).allMatch(l -> !l.contains("\r"));
        assertThat(sink.toString()).contains("model.safetensors: downloading 1.0 KB").contains("model.safetensors: done");
    }
}
