package dev.bulkhead.bench.serving;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The machine a benchmark ran on, recorded beside its numbers: timings on a shared box mean little without
 * the load average at the time.
 *
 * @param cpu                 CPU model name from /proc/cpuinfo, or "unknown"
 * @param availableProcessors processors the JVM sees
 * @param java                JVM name and version
 * @param loadAverage         /proc/loadavg when captured, or "unknown"
 */
public record BenchEnvironment(String cpu, int availableProcessors, String java, String loadAverage) {

    /** The environment now. */
    public static BenchEnvironment capture() {
        return new BenchEnvironment(cpuName(), Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.vm.name") + " " + Runtime.version(), loadAverageNow());
    }

    /** The 1-minute load average, or NaN when unknown. */
    public double load1() {
        try {
            return Double.parseDouble(loadAverage.split(" ")[0]);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    /** /proc/loadavg now, or "unknown". */
    public static String loadAverageNow() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static String cpuName() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
