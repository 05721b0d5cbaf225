package dev.bulkhead.router;

/**
 * One target of a route: a loaded model and its share of the route's traffic (canary splits).
 *
 * @param model  name of a model the router loaded
 * @param weight relative share of traffic; null in a config file means 1. Checked by
 *               {@link RoutingTableValidator}, not here, so that a corrupt update can be built and rejected
 *               with its reason.
 */
public record RouteTarget(String model, Double weight) {

    public RouteTarget {
        weight = weight == null ? 1.0 : weight;
    }

    /** A target with weight 1. */
    public static RouteTarget of(String model) {
        return new RouteTarget(model, 1.0);
    }

    /** A target with the given weight. */
    public static RouteTarget of(String model, double weight) {
        return new RouteTarget(model, weight);
    }
}
