package dev.bulkhead.router.worker;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The entry of a worker process: {@code java ... dev.bulkhead.router.worker.WorkerMain --model NAME ...}, or
 * {@code bulkhead worker ...}. Started by a router, never by hand; see {@code docs/process-isolation.md}.
 */
public final class WorkerMain {

    private static final Logger LOG = LoggerFactory.getLogger(WorkerMain.class);

    private WorkerMain() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Serves until the router says stop or is gone; returns the exit status (2 when the model did not load). */
    public static int run(String[] args) {
        WorkerArgs parsed;
        try {
            parsed = WorkerArgs.parse(args);
        } catch (IllegalArgumentException e) {
            LOG.error("{}", e.getMessage());
            return 64;
        }
        return new WorkerServer(parsed).run();
    }
}
