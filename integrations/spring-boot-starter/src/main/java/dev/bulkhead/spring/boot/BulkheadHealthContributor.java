package dev.bulkhead.spring.boot;

import java.util.stream.Stream;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthContributor;
import org.springframework.boot.health.contributor.HealthContributors;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * {@code /actuator/health/bulkhead}: one {@link HealthIndicator} per model, UP when it is ready, DOWN with the reason
 * when it is not. A model's failure shows as its own entry; as with the server's {@code /ready}, it never hides the
 * others.
 */
final class BulkheadHealthContributor implements CompositeHealthContributor {

    private final ModelReadiness readiness;

    BulkheadHealthContributor(ModelReadiness readiness) {
        this.readiness = readiness;
    }

    @Override
    public HealthContributor getContributor(String name) {
        return readiness.models().containsKey(name) ? indicator(name) : null;
    }

    @Override
    public Stream<HealthContributors.Entry> stream() {
        return readiness.models().keySet().stream().sorted().map(n -> new HealthContributors.Entry(n, indicator(n)));
    }

    private HealthIndicator indicator(String model) {
        return () -> {
            ModelReadiness.State s = readiness.models().get(model);
            if (s == null) {
                return Health.unknown().withDetail("reason", "no such model any more").build();
            }
            Health.Builder b = s.ready() ? Health.up() : Health.down();
            b.withDetail("status", s.status()).withDetail("inFlight", s.inFlight())
                    .withDetail("kvBlocksInUse", s.kvBlocks());
            if (!s.reason().isEmpty()) {
                b.withDetail("reason", s.reason());
            }
            return b.build();
        };
    }
}
