package dev.bulkhead.router;

import java.util.List;
import java.util.Map;

/**
 * A router with one worker-process model, run as a child JVM by {@link WorkerProcessTest}: prints its worker's pid,
 * then serves until killed.
 */
public final class RouterInChild {

    private RouterInChild() {
    }

    public static void main(String[] args) throws Exception {
        ModelSpec m = RouterFixtures.model("child", RouterFixtures.stories()).withIsolation(Isolation.PROCESS);
        Router router = Router.start(RouterConfig.of(List.of(m), new RoutingTable(1, Map.of("chat", Route.to("child")))));
        System.out.println("worker pid " + router.health("child").orElseThrow().worker().pid());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
