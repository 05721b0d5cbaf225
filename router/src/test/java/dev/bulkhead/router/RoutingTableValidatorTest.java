package dev.bulkhead.router;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Every way a routing-table update is rejected, and the expansion of valid chains. */
class RoutingTableValidatorTest {

    private static final Set<String> MODELS = Set.of("large-v3", "large-v2", "small-v1");
    private static final RoutingTable SERVING = table(1, Map.of("large", Route.to("large-v3", "small-v1", "cache")));

    private static RoutingTable table(long version, Map<String, Route> routes) {
        return new RoutingTable(version, new LinkedHashMap<>(routes));
    }

    private static List<String> errors(RoutingTable candidate) {
        return RoutingTableValidator.validate(candidate, SERVING, MODELS);
    }

    @Test
    void acceptsAValidTableWithCanarySplitAndChains() {
        RoutingTable t = table(2, Map.of(
                "large", new Route(List.of(RouteTarget.of("large-v3", 90), RouteTarget.of("large-v2", 10)),
                        List.of("previous", "cache")),
                "previous", Route.to("large-v2", "small-v1")));
        assertThat(errors(t)).isEmpty();
    }

    @Test
    void rejectsAVersionThatDoesNotIncrease() {
        assertThat(errors(SERVING.withVersion(1))).containsExactly("version must increase: serving 1, got 1");
        assertThat(errors(SERVING.withVersion(0))).hasSize(1);
    }

    @Test
    void rejectsAnEmptyTable() {
        assertThat(errors(table(2, Map.of()))).containsExactly("the table has no routes: it would send all traffic nowhere");
    }

    @Test
    void rejectsUnknownTargetsAndFallbacks() {
        assertThat(errors(table(2, Map.of("large", Route.to("large-v9")))))
                .singleElement().asString().contains("targets model 'large-v9', which is not loaded");
        assertThat(errors(table(2, Map.of("large", Route.to("large-v3", "nowhere")))))
                .singleElement().asString().contains("falls back to 'nowhere', which is no loaded model, alias or 'cache'");
    }

    @Test
    void rejectsFallbackCycles() {
        assertThat(errors(table(2, Map.of("a", Route.to("large-v3", "a")))))
                .containsExactly("fallback chains must be acyclic: a -> a");
        Map<String, Route> routes = new LinkedHashMap<>();
        routes.put("a", Route.to("large-v3", "b"));
        routes.put("b", Route.to("large-v2", "c"));
        routes.put("c", Route.to("small-v1", "a"));
        assertThat(errors(table(2, routes))).containsExactly("fallback chains must be acyclic: a -> b -> c -> a");
    }

    @Test
    void rejectsInsaneWeights() {
        for (double w : new double[] {-1, Double.NaN, Double.POSITIVE_INFINITY, 2e6}) {
            assertThat(errors(table(2, Map.of("large", new Route(List.of(RouteTarget.of("large-v3", w)), List.of())))))
                    .as("weight %s", w).singleElement().asString().contains("weight " + w);
        }
        assertThat(errors(table(2, Map.of("large", new Route(List.of(RouteTarget.of("large-v3", 0),
                RouteTarget.of("large-v2", 0)), List.of())))))
                .containsExactly("route 'large' has weights summing to 0.0; at least one must be positive");
    }

    @Test
    void rejectsMalformedRoutes() {
        assertThat(errors(table(2, Map.of("large", new Route(List.of(), List.of())))))
                .containsExactly("route 'large' has no targets");
        assertThat(errors(table(2, Map.of("large", new Route(List.of(RouteTarget.of("large-v3"),
                RouteTarget.of("large-v3")), List.of()))))).containsExactly("route 'large' lists target 'large-v3' twice");
        assertThat(errors(table(2, Map.of("large", Route.to("large-v3", "cache", "small-v1")))))
                .containsExactly("route 'large' has 'cache' at position 0 of its fallbacks; it must be last");
        assertThat(errors(table(2, Map.of("large", Route.to("large-v3", "small-v1", "small-v1")))))
                .containsExactly("route 'large' lists fallback 'small-v1' twice");
        assertThat(errors(table(2, Map.of(" bad alias", Route.to("large-v3"))))).singleElement().asString()
                .startsWith("alias ' bad alias' must match");
        Map<String, Route> nullRoute = new LinkedHashMap<>();
        nullRoute.put("large", null);
        assertThat(errors(table(2, nullRoute))).containsExactly("route 'large' is empty");
        assertThat(errors(table(2, Map.of("large", new Route(java.util.Arrays.asList(new RouteTarget(null, 1.0)),
                List.of()))))).containsExactly("route 'large' has a target without a model");
    }

    @Test
    void collectsEveryReasonOfOneUpdate() {
        Map<String, Route> routes = new LinkedHashMap<>();
        routes.put("a", new Route(List.of(RouteTarget.of("ghost", -2)), List.of("nowhere")));
        assertThat(RoutingTableValidator.validate(table(1, routes), SERVING, MODELS)).hasSize(4);
    }

    @Test
    void rejectsEveryCorruptionTheFaultInjectorProduces() {
        FaultInjector faults = new FaultInjector(FaultSpec.enabled(10), MODELS);
        RoutingTable good = table(2, Map.of("large", Route.to("large-v3", "small-v1", "cache")));
        assertThat(errors(good)).isEmpty();
        for (long n = 0; n < 4; n++) {
            assertThat(errors(faults.corrupt(good, n))).as("corruption %d", n).isNotEmpty();
        }
    }

    @Test
    void expandsChainsDepthFirstWithoutDuplicates() {
        RoutingTable t = table(2, Map.of(
                "large", new Route(List.of(RouteTarget.of("large-v3")), List.of("previous", "small-v1", "cache")),
                "previous", new Route(List.of(RouteTarget.of("large-v2", 1), RouteTarget.of("large-v3", 5)),
                        List.of("small-v1"))));
        assertThat(t.chain("large", MODELS, new SplittableRandom(1)))
                .containsExactly("large-v3", "large-v2", "small-v1", "cache");
        assertThat(t.chain("small-v1", MODELS, new SplittableRandom(1))).containsExactly("small-v1");
        assertThat(t.chain("nothing", MODELS, new SplittableRandom(1))).isEmpty();
    }

    @Test
    void splitsTrafficByWeight() {
        RoutingTable t = table(2, Map.of("large", new Route(List.of(RouteTarget.of("large-v3", 90),
                RouteTarget.of("large-v2", 10)), List.of())));
        SplittableRandom rnd = new SplittableRandom(7);
        int canary = 0;
        for (int i = 0; i < 10_000; i++) {
            if (t.chain("large", MODELS, rnd).getFirst().equals("large-v2")) {
                canary++;
            }
        }
        assertThat(canary).isBetween(850, 1150);
    }
}
