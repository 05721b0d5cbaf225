package dev.bulkhead.server.cli;

import dev.bulkhead.router.worker.WorkerMain;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/**
 * {@code bulkhead worker ...}: one model's engine in a process of its own, started and supervised by
 * {@code serve --config} (see docs/process-isolation.md). Not for use by hand: its flags are the router's.
 */
@Command(name = "worker", hidden = true, description = "A model's worker process (started by serve --config).")
final class WorkerCommand implements Callable<Integer> {

    @Unmatched
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() {
        return WorkerMain.run(args.toArray(String[]::new));
    }
}
