package dev.bulkhead.server.http;

import java.util.logging.Formatter;
import java.util.logging.LogRecord;
import java.util.logging.SimpleFormatter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * The JUL-to-SLF4J bridge, except that a record whose exception only says a client went away (see
 * {@link ClientDisconnects}) becomes one DEBUG line instead of a warning with a stack trace: Helidon logs some such
 * failures at WARNING, and a client hanging up is nothing for an operator to act on.
 */
final class QuietClientResetsBridge extends SLF4JBridgeHandler {

    // NOTE: only its formatMessage is used (parameters and resource bundles filled in); it keeps no state.
    private static final Formatter MESSAGES = new SimpleFormatter();

    @Override
    public void publish(LogRecord record) {
        if (record != null && record.getThrown() != null && ClientDisconnects.isClientGone(record.getThrown())) {
            Logger log = LoggerFactory.getLogger(record.getLoggerName() == null ? "jul" : record.getLoggerName());
            if (log.isDebugEnabled()) {
                log.debug("{} (client went away: {})", MESSAGES.formatMessage(record),
                        ClientDisconnects.describe(record.getThrown()));
            }
            return;
        }
        super.publish(record);
    }
}
