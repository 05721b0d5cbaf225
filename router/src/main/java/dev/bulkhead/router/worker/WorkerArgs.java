package dev.bulkhead.router.worker;

import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.router.EngineSpec;
import dev.bulkhead.router.FaultSpec;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * A worker's command line, as {@code WorkerLauncher} writes it: {@code --model NAME --socket PATH --parent-pid PID
 * --device DEV --threads N --block-size N --kv-cache-bytes N --max-batched-tokens N --max-running N
 * --max-model-len N --prefix-caching BOOL --heartbeat-millis N [--source SRC] [--faults SLOW_MS,HANG_MS]}.
 *
 * @param model           the model's name in the router config (tags its metrics)
 * @param source          what {@code ModelLoader.load} takes; null for the embedded model
 * @param socket          where the router listens
 * @param parentPid       the router's pid; the worker exits when it is gone
 * @param device          the backend
 * @param options         engine sizing
 * @param heartbeatMillis how often it reports
 * @param faults          drill settings, or null when drills are off (then every FAULT frame is refused)
 */
public record WorkerArgs(String model, String source, Path socket, long parentPid, String device,
                         EngineOptions options, long heartbeatMillis, FaultSpec faults) {

    private static final Set<String> FLAGS = Set.of("--model", "--source", "--socket", "--parent-pid", "--device",
            "--threads", "--block-size", "--kv-cache-bytes", "--max-batched-tokens", "--max-running",
            "--max-model-len", "--prefix-caching", "--heartbeat-millis", "--faults");

    /** Parses the command line; a missing or unknown flag is an {@link IllegalArgumentException} naming it. */
    public static WorkerArgs parse(String... args) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!FLAGS.contains(args[i]) || i + 1 >= args.length) {
                throw new IllegalArgumentException("worker: unknown flag or missing value: " + args[i]
                        + " (flags: " + FLAGS + ")");
            }
            m.put(args[i], args[++i]);
        }
        EngineSpec e = new EngineSpec(integer(m, "--threads"), integer(m, "--block-size"),
                Long.parseLong(required(m, "--kv-cache-bytes")), integer(m, "--max-batched-tokens"),
                integer(m, "--max-running"), integer(m, "--max-model-len"),
                Boolean.parseBoolean(required(m, "--prefix-caching")));
        FaultSpec faults = null;
        if (m.containsKey("--faults")) {
            String[] f = m.get("--faults").split(",");
            faults = new FaultSpec(true, Long.parseLong(f[0]), Long.parseLong(f[1]), null);
        }
        return new WorkerArgs(required(m, "--model"), m.get("--source"), Path.of(required(m, "--socket")),
                Long.parseLong(required(m, "--parent-pid")), required(m, "--device"), e.options(),
                Long.parseLong(required(m, "--heartbeat-millis")), faults);
    }

    private static int integer(Map<String, String> m, String flag) {
        return Integer.parseInt(required(m, flag));
    }

    private static String required(Map<String, String> m, String flag) {
        String v = m.get(flag);
        if (v == null) {
            throw new IllegalArgumentException("worker: " + flag + " is required");
        }
        return v;
    }
}
