package dev.bulkhead.server.http;

import io.helidon.logging.common.spi.LoggingProvider;
import java.util.logging.LogManager;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Helidon's logging hook (found through {@code META-INF/services}): Helidon logs through JUL, which would print
 * its own two-line format beside ours and announce that it found no logging implementation; this routes JUL into
 * SLF4J instead, so the server's lines share one format and one level setting.
 */
public final class Slf4jLogging implements LoggingProvider {

    @Override
    public void initialization() {
        install();
    }

    @Override
    public void runTime() {
        install();
    }

    /**
     * Routes JUL to SLF4J now. Helidon finds this provider (which also silences its "no logging implementation"
     * notice), but calls it only on some start paths, so the CLI calls this first thing as well.
     */
    public static synchronized void install() {
        if (!SLF4JBridgeHandler.isInstalled()) {
            SLF4JBridgeHandler.removeHandlersForRootLogger();
            // NOTE: our subclass of the bridge, so a client's reset logged by Helidon is one DEBUG line.
            LogManager.getLogManager().getLogger("").addHandler(new QuietClientResetsBridge());
        }
    }
}
