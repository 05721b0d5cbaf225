package dev.bulkhead.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Isolation and worker settings in the router config: per model, defaulted by whoever starts the router, spelled as
 * in the docs, with the worker's heap from the model's memory; and the worker command line a router builds.
 */
class IsolationConfigTest {

    private static final String YAML = """
            models:
              - name: a
                isolation: process
                engine: {kvCacheBytes: 1048576}
                worker: {heapBytes: 201326592, heartbeatMillis: 50, jvmOptions: ["-XX:+AlwaysPreTouch"]}
              - name: b
                isolation: in-process
              - name: c
            routing: {version: 1, routes: {chat: {targets: [{model: a}], fallbacks: [b, c]}}}
            watchdog: {maxRestarts: 2, restartPeriodMillis: 10000}
            """;

    @Test
    void eachModelSaysWhereItRunsAndTheRestTakeTheDefault() {
        RouterConfig c = RouterConfigLoader.parse(YAML, true, "test.yaml");
        assertThat(c.models()).extracting(ModelSpec::isolation).containsExactly(Isolation.PROCESS,
                Isolation.IN_PROCESS, null);
        assertThat(c.withDefaultIsolation(Isolation.PROCESS).models()).extracting(ModelSpec::isolation)
                .containsExactly(Isolation.PROCESS, Isolation.IN_PROCESS, Isolation.PROCESS);
        ModelSpec a = c.models().getFirst();
        assertThat(a.worker().heapBytes()).isEqualTo(192L << 20);
        assertThat(a.worker().heartbeatMillis()).isEqualTo(50);
        assertThat(a.worker().writeStallMillis()).as("default").isEqualTo(2_000);
        assertThat(c.models().get(2).worker()).isEqualTo(WorkerSpec.defaults());
        assertThat(c.watchdog().restartPeriodMillis()).isEqualTo(10_000);
        assertThat(WatchdogSpec.defaults().restartPeriodMillis()).isEqualTo(60_000);
    }

    @Test
    void aMisspelledIsolationIsAnErrorThatNamesTheChoices() {
        assertThatThrownBy(() -> RouterConfigLoader.parse(YAML.replace("in-process", "sandbox"), true, "t.yaml"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'process' or 'in-process'")
                .hasMessageContaining("sandbox");
        assertThat(Isolation.of("IN_PROCESS")).isEqualTo(Isolation.IN_PROCESS);
    }

    @Test
    void aWorkersHeapFollowsItsKvPoolAndWeightsAsTheLauncherSizesIt() {
        WorkerSpec w = WorkerSpec.defaults();
        // 256 MiB + KV pool * 4/3 + min(weights / 16, 1 GiB), rounded up to 64 MiB.
        assertThat(w.heapFor(0, 1L << 20)).isEqualTo(320L << 20);
        assertThat(w.heapFor(440L << 20, 600L << 20)).isEqualTo(1_088L << 20);
        assertThat(w.heapFor(64L << 30, 0)).as("weights count at most 1 GiB").isEqualTo(1_280L << 20);
        assertThat(new WorkerSpec(512L << 20, 0, 0, 0, 0, 0, null).heapFor(64L << 30, 1L << 30)).isEqualTo(512L << 20);
    }

    @Test
    void theWorkerCommandLineCarriesItsLimitsAndItsLinkToTheRouter() {
        ModelSpec a = RouterConfigLoader.parse(YAML, true, "t.yaml").models().getFirst();
        WorkerLauncher l = new WorkerLauncher("/jdk/bin/java", "app.jar", "dev.bulkhead.server.cli.BulkheadCli",
                List.of("worker"), "cuda:1");
        List<String> cmd = l.command(a, 192L << 20, Path.of("/tmp/w/a-1.sock"), Path.of("/tmp/w/hs_err_a-1_%p.log"),
                FaultSpec.enabled(5));
        assertThat(cmd.getFirst()).isEqualTo("/jdk/bin/java");
        assertThat(cmd).contains("-Xmx192m", "-XX:MaxDirectMemorySize=64m", "-XX:+ExitOnOutOfMemoryError",
                "-XX:ErrorFile=/tmp/w/hs_err_a-1_%p.log", "-XX:+UseSerialGC", "-XX:+AlwaysPreTouch", "--enable-native-access=ALL-UNNAMED");
        assertThat(String.join(" ", cmd)).contains("-cp app.jar dev.bulkhead.server.cli.BulkheadCli worker --model a")
                .contains("--socket /tmp/w/a-1.sock").contains("--parent-pid " + ProcessHandle.current().pid())
                .contains("--device cuda:1").contains("--kv-cache-bytes 1048576").contains("--faults 5,600000")
                .doesNotContain("--source");
        assertThat(cmd.indexOf("-XX:+AlwaysPreTouch")).as("the model's own options come after the router's")
                .isGreaterThan(cmd.indexOf("-XX:+ExitOnOutOfMemoryError"));
    }
}
