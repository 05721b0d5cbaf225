package dev.bulkhead.ffi;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Where native CUDA libraries may live, gathered once from the environment, in search order. A record so
 * tests can point the locator at a fake directory layout.
 *
 * @param overrideDirs   directories named by {@code -Dbulkhead.cuda.libPath} (path-separator list), first
 * @param ldLibraryPath  directories of {@code LD_LIBRARY_PATH}
 * @param ldconfigFiles  full paths listed by {@code ldconfig -p}
 * @param toolkitDirs    {@code $CUDA_HOME/lib64}, {@code $CUDA_PATH/lib64}, {@code /usr/local/cuda/lib64} and
 *                       the usual system library directories
 * @param sitePackages   Python {@code site-packages} directories that may hold {@code nvidia/<pkg>/lib}
 */
public record SearchPaths(List<Path> overrideDirs, List<Path> ldLibraryPath, List<Path> ldconfigFiles,
                          List<Path> toolkitDirs, List<Path> sitePackages) {

    public SearchPaths {
        overrideDirs = List.copyOf(overrideDirs);
        ldLibraryPath = List.copyOf(ldLibraryPath);
        ldconfigFiles = List.copyOf(ldconfigFiles);
        toolkitDirs = List.copyOf(toolkitDirs);
        sitePackages = List.copyOf(sitePackages);
    }

    /** The real process environment: system properties, environment variables, {@code ldconfig -p}. */
    public static SearchPaths fromEnvironment() {
        return of(System.getenv(), System.getProperty("bulkhead.cuda.libPath", ""), runLdconfig(),
                Path.of(System.getProperty("user.home", "/root")));
    }

    /**
     * Search paths from explicit inputs (what {@link #fromEnvironment()} reads).
     *
     * @param env              environment variables
     * @param overrideProperty value of {@code bulkhead.cuda.libPath}, may be empty
     * @param ldconfigOutput   output of {@code ldconfig -p}, may be empty
     * @param home             the user's home directory
     */
    public static SearchPaths of(Map<String, String> env, String overrideProperty, String ldconfigOutput, Path home) {
        List<Path> toolkit = new ArrayList<>();
        for (String var : List.of("CUDA_HOME", "CUDA_PATH")) {
            String v = env.get(var);
            if (v != null && !v.isBlank()) {
                toolkit.add(Path.of(v, "lib64"));
                toolkit.add(Path.of(v, "lib"));
            }
        }
        for (String dir : List.of("/usr/local/cuda/lib64", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                "/usr/lib64", "/usr/lib", "/usr/lib/wsl/lib")) {
            toolkit.add(Path.of(dir));
        }
        List<Path> site = new ArrayList<>(split(env.get("PYTHONPATH")));
        for (String var : List.of("VIRTUAL_ENV", "CONDA_PREFIX")) {
            String v = env.get(var);
            if (v != null && !v.isBlank()) {
                site.addAll(pythonSiteDirs(Path.of(v, "lib")));
            }
        }
        site.addAll(pythonSiteDirs(home.resolve(".local/lib")));
        site.addAll(pythonSiteDirs(Path.of("/usr/local/lib")));
        site.add(Path.of("/usr/lib/python3/dist-packages"));
        return new SearchPaths(split(overrideProperty), split(env.get("LD_LIBRARY_PATH")),
                parseLdconfig(ldconfigOutput), toolkit, site);
    }

    /** Parses {@code ldconfig -p} lines such as {@code \tlibcuda.so.1 (libc6,x86-64) => /usr/lib/.../libcuda.so.1}. */
    public static List<Path> parseLdconfig(String output) {
        List<Path> files = new ArrayList<>();
        for (String line : output.split("\n")) {
            int arrow = line.indexOf("=>");
            if (arrow > 0) {
                String p = line.substring(arrow + 2).trim();
                if (!p.isEmpty()) {
                    files.add(Path.of(p));
                }
            }
        }
        return files;
    }

    /** {@code lib/python3.*\/site-packages} and {@code dist-packages} under {@code libDir}, sorted by name. */
    static List<Path> pythonSiteDirs(Path libDir) {
        if (!Files.isDirectory(libDir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(libDir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("python3")).sorted()
                    .flatMap(p -> Stream.of(p.resolve("site-packages"), p.resolve("dist-packages")))
                    .filter(Files::isDirectory).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static List<Path> split(String pathList) {
        if (pathList == null || pathList.isBlank()) {
            return List.of();
        }
        List<Path> out = new ArrayList<>();
        for (String s : pathList.split(java.io.File.pathSeparator)) {
            if (!s.isBlank()) {
                out.add(Path.of(s));
            }
        }
        return out;
    }

    private static String runLdconfig() {
        for (String exe : List.of("/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig")) {
            try {
                Process p = new ProcessBuilder(exe, "-p").redirectErrorStream(true).start();
                byte[] out = p.getInputStream().readAllBytes();
                if (p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    return new String(out, StandardCharsets.UTF_8);
                }
            } catch (IOException e) {
                // NOTE: a missing ldconfig only removes one search source; the others still run.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "";
            }
        }
        return "";
    }
}
