package dev.bulkhead.router;

import static dev.bulkhead.router.RouterFixtures.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The YAML/JSON config, its defaults and errors, and hot reload of the routing table from the file. */
class RouterConfigLoaderTest {

    private static String yaml(String aSource, String bSource, String routing) {
        return """
                nodeMemoryBytes: 268435456
                models:
                  - name: a
                    source: %s
                    memoryBudgetBytes: 8388608
                    engine: {kvCacheBytes: 1048576, maxModelLen: 128}
                    health: {readinessIntervalMillis: 200, readinessTimeoutMillis: 500}
                  - name: b
                    source: %s
                    engine: {kvCacheBytes: 1048576, maxModelLen: 128}
                routing:
                %s
                watchdog: {tickMillis: 25, reloadMillis: 50}
                faults: {enabled: false}
                """.formatted(aSource, bSource, routing.indent(2));
    }

    private static final String V1 = """
            version: 1
            routes:
              chat: {targets: [{model: a, weight: 9}, {model: b}], fallbacks: [b, cache]}
            """;

    @Test
    void readsYamlWithDefaults() {
        RouterConfig c = RouterConfigLoader.parse(yaml("/m/a", "/m/b", V1), true, "test.yaml");
        assertThat(c.nodeMemoryBytes()).isEqualTo(256L << 20);
        assertThat(c.models()).extracting(ModelSpec::name).containsExactly("a", "b");
        ModelSpec a = c.models().getFirst();
        assertThat(a.engine().options().kvCacheBytes()).isEqualTo(1 << 20);
        assertThat(a.engine().threads()).isEqualTo(1);
        assertThat(a.queue()).isEqualTo(QueueLimits.defaults());
        assertThat(a.health().readinessIntervalMillis()).isEqualTo(200);
        assertThat(a.health().livenessTimeoutMillis()).isEqualTo(5_000);
        assertThat(c.routing().routes().get("chat").targets())
                .containsExactly(RouteTarget.of("a", 9), RouteTarget.of("b", 1));
        assertThat(c.routing().routes().get("chat").fallbacks()).containsExactly("b", "cache");
        assertThat(c.faults().enabled()).isFalse();
        assertThat(c.watchdog().maxRestarts()).isEqualTo(3);
    }

    @Test
    void readsJson() {
        RouterConfig c = RouterConfigLoader.parse("""
                {"models": [{"name": "a"}], "routing": {"version": 3, "routes": {"x": {"targets": [{"model": "a"}]}}},
                 "faults": {"enabled": true, "slowStepMillis": 40, "inject": {"a": ["slow_steps"]}}}
                """, false, "test.json");
        assertThat(c.routing().version()).isEqualTo(3);
        assertThat(c.faults().inject()).containsEntry("a", List.of(Fault.SLOW_STEPS));
        assertThat(c.nodeMemoryBytes()).isEqualTo(Runtime.getRuntime().maxMemory());
    }

    @Test
    void namesTheProblemOfABadFile() {
        assertThatThrownBy(() -> RouterConfigLoader.parse("models: [{name: a, sorce: x}]", true, "typo.yaml"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("typo.yaml")
                .hasMessageContaining("sorce");
        assertThatThrownBy(() -> RouterConfigLoader.parse("models: [{name: a, engine: {threads: -1}}]", true, "t.yaml"))
                .hasMessageContaining("threads must be in [1, 1024], got -1");
        assertThatThrownBy(() -> RouterConfigLoader.parse("models: [{name: a}, {name: a}]", true, "t.yaml"))
                .hasMessageContaining("model name 'a' is used twice");
        assertThatThrownBy(() -> RouterConfigLoader.parse("models: [{name: a}]\nfaults: {inject: {a: [HUNG_STEP]}}",
                true, "t.yaml")).hasMessageContaining("faults.enabled is false");
        assertThatThrownBy(() -> RouterConfigLoader.parse("models: []", true, "t.yaml"))
                .hasMessageContaining("at least one model");
    }

    @Test
    void hotReloadSwapsValidTablesAndKeepsTheLastGoodOneOtherwise(@TempDir Path dir) throws Exception {
        String a = RouterFixtures.tinyCheckpoint("a", 1);
        String b = RouterFixtures.stories();
        Path file = dir.resolve("router.yaml");
        Files.writeString(file, yaml(a, b, V1));
        try (Router router = Router.start(RouterConfigLoader.load(file))) {
            assertThat(router.routingTable().version()).isEqualTo(1);

            Files.writeString(file, yaml(a, b, "version: 2\nroutes:\n  chat: {targets: [{model: ghost}]}\n"));
            TableUpdate unknown = router.reloadConfig().orElseThrow();
            assertThat(unknown.accepted()).isFalse();
            assertThat(unknown.errors()).singleElement().asString().contains("'ghost', which is not loaded");

            Files.writeString(file, "models: [ {name: a, source: " + a + "\n  routing: ::: not yaml");
            TableUpdate broken = router.reloadConfig().orElseThrow();
            assertThat(broken.accepted()).isFalse();
            assertThat(broken.activeVersion()).isEqualTo(1);
            assertThat(broken.errors()).singleElement().asString().startsWith("invalid router config");

            Files.writeString(file, yaml(a, b, "version: 2\nroutes:\n  chat: {targets: [{model: b}], fallbacks: [a]}\n"));
            // The watchdog notices the file change on its own.
            assertThat(await(Duration.ofSeconds(10), () -> router.routingTable().version() == 2)).isTrue();
            assertThat(router.submit("chat", RouterFixtures.request("Once", 4, Duration.ofSeconds(10))).join().servedBy())
                    .isEqualTo("b");
        }
    }
}
