package dev.bulkhead.bench.gpu;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code gpu-bench summary}: {@code summary.json} of the run whose part files are in {@code --dir}. */
@Command(name = "summary", mixinStandardHelpOptions = true,
        description = "Write summary.json from a GPU run's part files and parts.tsv, with the targets.")
final class SummaryCommand implements Callable<Integer> {

    @Option(names = "--dir", required = true, description = "the run's output directory")
    Path dir;

    @Option(names = "--shapes", split = ",", defaultValue = "", description = "shapes the run planned (listed even when missing)")
    List<String> shapes;

    @Override
    public Integer call() {
        ObjectNode summary = new RunSummary(dir).build(shapes.stream().filter(s -> !s.isBlank()).toList());
        PartFiles.write(dir.resolve("summary.json"), summary);
        System.out.print(RunSummary.table(summary));
        System.out.println("wrote " + dir.resolve("summary.json"));
        return 0;
    }
}
