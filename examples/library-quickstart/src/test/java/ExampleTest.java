import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Runs the README's example and checks what it prints at each of its four steps. */
class ExampleTest {

    @Test
    void theReadmeExampleRuns() throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            Example.main(new String[0]);
        } finally {
            System.setOut(original);
        }
        String printed = out.toString(StandardCharsets.UTF_8);
        original.print(printed);
        java.util.List<String> lines = printed.strip().lines().toList();
        // NOTE: the finish reason may share a line with the streamed text, which a delivery thread prints.
        assertTrue(printed.contains("STOP") || printed.contains("LENGTH"), "the stream ended by stop or length:\n" + printed);
        assertTrue(lines.contains("ABORT"), "the request cancelled by id ended ABORT:\n" + printed);
        assertTrue(lines.getLast().startsWith("prompt: "), "bad input names its field:\n" + printed);
    }
}
