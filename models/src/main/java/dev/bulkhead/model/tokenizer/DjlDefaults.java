package dev.bulkhead.model.tokenizer;

import dev.bulkhead.model.embedded.EmbeddedModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps DJL, which runs {@code tokenizer.json} files, from reaching out of the process when it initialises. Left
 * alone, loading the first tokenizer
 * <ul>
 *   <li>calls home for usage tracking: {@code Ec2Utils.callHome} asks the cloud metadata address 169.254.169.254 for
 *       the instance id (on a cloud VM that reports the instance) and then a telemetry URL;</li>
 *   <li>probes for CUDA through JNA, whose first use runs {@code /sbin/ldconfig -p} as a child process, and on a GPU
 *       machine would download a CUDA build of the tokenizers library from {@code publish.djl.ai};</li>
 * </ul>
 * none of which a tokenizer that reads a local file needs. So, before DJL initialises, this sets DJL's documented
 * switches as system properties: {@code OPT_OUT_TRACKING=true} (its usage tracking) and {@code ai.djl.offline=true}
 * (no downloads; the CPU build inside the jar is used), unpacks DJL's native library into Bulkhead's cache
 * ({@code ENGINE_CACHE_DIR}) rather than {@code ~/.djl.ai}, and gives JNA its library path
 * ({@code jna.platform.library.path}) so it has no reason to run {@code ldconfig}. Each is set only when the user has
 * not set it (DJL reads the {@code OPT_OUT_TRACKING} and {@code DJL_OFFLINE} environment variables before the
 * properties, so those still decide when present). It lives here, beside the tokenizer, so the engine used as a
 * library gets it too.
 */
final class DjlDefaults {

    private static final Logger LOG = LoggerFactory.getLogger(DjlDefaults.class);

    private DjlDefaults() {
    }

    /** Sets the defaults the user has not set; call it before any DJL call. Repeating it changes nothing. */
    static void apply() {
        if (System.getenv("OPT_OUT_TRACKING") == null) {
            setIfAbsent("OPT_OUT_TRACKING", "true");
        }
        if (System.getenv("DJL_OFFLINE") == null) {
            setIfAbsent("ai.djl.offline", "true");
        }
        if (System.getenv("ENGINE_CACHE_DIR") == null && System.getenv("DJL_CACHE_DIR") == null
                && System.getProperty("DJL_CACHE_DIR") == null) {
            // NOTE: DJL unpacks its 14 MB native tokenizer library under ~/.djl.ai unless told; a library writes
            // only into the user's cache, so it goes beside Bulkhead's other cached files.
            setIfAbsent("ENGINE_CACHE_DIR", EmbeddedModel.defaultCacheRoot().resolve("djl").toString());
        }
        if (System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            // NOTE: the directories JNA itself would list first, so other JNA users in the process still find
            // libraries by name; JNA only adds what `ldconfig -p` prints when this property is unset.
            setIfAbsent("jna.platform.library.path", String.join(java.io.File.pathSeparator, libraryDirs()));
        }
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
            LOG.debug("DJL default: {}={}", key, value);
        }
    }

    private static List<String> libraryDirs() {
        String arch = System.getProperty("os.arch", "");
        String multiArch = switch (arch) {
            case "amd64", "x86_64" -> "x86_64-linux-gnu";
            case "aarch64", "arm64" -> "aarch64-linux-gnu";
            default -> arch + "-linux-gnu";
        };
        List<String> out = new ArrayList<>();
        for (String d : new String[] {"/usr/lib/" + multiArch, "/lib/" + multiArch, "/usr/lib64", "/lib64",
                                      "/usr/lib", "/lib"}) {
            if (Files.isDirectory(Path.of(d))) {
                out.add(d);
            }
        }
        return out;
    }
}
