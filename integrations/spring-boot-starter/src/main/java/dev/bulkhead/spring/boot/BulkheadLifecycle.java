package dev.bulkhead.spring.boot;

import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.router.Router;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Drains the application's engines and routers when the context stops: requests in flight get up to the drain timeout
 * to finish, then the rest are aborted and every model is released. Its phase is below the web server's, so Spring
 * stops taking HTTP requests (and finishes its own graceful shutdown) before the models drain. Engines and routers
 * both stop admitting at once ({@code LlmEngine.shutdown}, {@code Router.drain}) and close when nothing is in flight
 * or queued.
 */
final class BulkheadLifecycle implements SmartLifecycle {

    /** Below {@code WebServerStartStopLifecycle} (DEFAULT_PHASE - 2048): stopped after the web server. */
    static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 4096;

    private static final Logger LOG = LoggerFactory.getLogger(BulkheadLifecycle.class);

    private final List<LlmEngine> engines;
    private final List<Router> routers;
    private final Duration drain;
    private volatile boolean running;

    BulkheadLifecycle(List<LlmEngine> engines, List<Router> routers, Duration drain) {
        this.engines = engines;
        this.routers = routers;
        this.drain = drain;
    }

    @Override
    public void start() {
        running = true;
    }

    @Override
    public void stop() {
        long until = System.nanoTime() + drain.toNanos();
        for (LlmEngine e : engines) {
            boolean drained = e.shutdown(remaining(until));
            LOG.info("bulkhead engine stopped ({})", drained ? "drained" : "requests still in flight were aborted");
        }
        for (Router r : routers) {
            boolean drained = r.drain(remaining(until));
            r.close();
            LOG.info("bulkhead router stopped ({})", drained ? "drained" : "requests still in flight were aborted");
        }
        running = false;
    }

    private static Duration remaining(long until) {
        return Duration.ofNanos(Math.max(0, until - System.nanoTime()));
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }
}
