package dev.bulkhead.router;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Locale;

/** The router's counters: answers by alias, server and degradation, rejections by reason, table updates. */
final class RouterMetrics {

    private final MeterRegistry registry;

    RouterMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    void served(String alias, String by, boolean degraded) {
        Counter.builder("bulkhead.router.requests").tag("alias", alias).tag("served_by", by)
                .tag("degraded", Boolean.toString(degraded)).register(registry).increment();
    }

    void rejected(String alias, RouterRejectedException.Reason reason) {
        Counter.builder("bulkhead.router.rejections").tag("alias", alias)
                .tag("reason", reason.name().toLowerCase(Locale.ROOT)).register(registry).increment();
    }

    void tableUpdate(boolean accepted) {
        Counter.builder("bulkhead.router.table_updates").tag("accepted", Boolean.toString(accepted))
                .register(registry).increment();
    }
}
