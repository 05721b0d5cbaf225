package dev.bulkhead.ffi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Library discovery on fake directory layouts: each search source, precedence, version choice, messages. */
class LibraryLocatorTest {

    @TempDir
    Path root;

    private Path touch(String relative) throws IOException {
        Path f = root.resolve(relative);
        Files.createDirectories(f.getParent());
        return Files.createFile(f);
    }

    private static SearchPaths paths(List<Path> ld, List<Path> ldconfig, List<Path> toolkit, List<Path> site) {
        return new SearchPaths(List.of(), ld, ldconfig, toolkit, site);
    }

    @Test
    void findsTheDriverOnLdLibraryPath() throws IOException {
        Path lib = touch("drv/libcuda.so.1");
        LibraryLocator.Lookup l = LibraryLocator.locate(LibrarySpec.CUDA_DRIVER,
                paths(List.of(root.resolve("empty"), root.resolve("drv")), List.of(), List.of(), List.of()));
        assertThat(l.path()).contains(lib);
        assertThat(l.searched()).containsExactly(root.resolve("empty").toString(), root.resolve("drv").toString());
    }

    @Test
    void findsTheDriverThroughLdconfig() throws IOException {
        Path lib = touch("sys/libcuda.so.1");
        String ldconfig = "12 libs found in cache `/etc/ld.so.cache'\n"
                + "\tlibcudart.so.13 (libc6,x86-64) => /nowhere/libcudart.so.13\n"
                + "\tlibcuda.so.1 (libc6,x86-64) => " + lib + "\n";
        LibraryLocator.Lookup l = LibraryLocator.locate(LibrarySpec.CUDA_DRIVER,
                paths(List.of(), SearchPaths.parseLdconfig(ldconfig), List.of(), List.of()));
        assertThat(l.path()).contains(lib);
    }

    @Test
    void ldconfigEntriesThatDoNotExistAreSkipped() {
        List<Path> stale = SearchPaths.parseLdconfig("\tlibcuda.so.1 (libc6,x86-64) => " + root.resolve("gone/libcuda.so.1"));
        assertThat(LibraryLocator.locate(LibrarySpec.CUDA_DRIVER, paths(List.of(), stale, List.of(), List.of())).path())
                .isEmpty();
    }

    @Test
    void ldLibraryPathWinsOverTheToolkit() throws IOException {
        Path mine = touch("mine/libcublas.so.12");
        touch("cuda/lib64/libcublas.so.12");
        LibraryLocator.Lookup l = LibraryLocator.locate(LibrarySpec.CUBLAS, paths(List.of(root.resolve("mine")),
                List.of(), List.of(root.resolve("cuda/lib64")), List.of()));
        assertThat(l.path()).contains(mine);
    }

    @Test
    void findsCublasInAPipWheel() throws IOException {
        Path lib = touch("venv/lib/python3.12/site-packages/nvidia/cublas/lib/libcublas.so.12");
        SearchPaths p = SearchPaths.of(Map.of("VIRTUAL_ENV", root.resolve("venv").toString()), "", "", root.resolve("home"));
        assertThat(p.sitePackages()).contains(root.resolve("venv/lib/python3.12/site-packages"));
        LibraryLocator.Lookup l = LibraryLocator.locate(LibrarySpec.CUBLAS,
                paths(List.of(), List.of(), List.of(), p.sitePackages()));
        assertThat(l.path()).contains(lib);
    }

    @Test
    void picksTheNewestVersionWhenOnlyVersionedFilesExist() throws IOException {
        touch("tk/libcublas.so.11.2.1");
        Path newest = touch("tk/libcublas.so.14.0.2");
        touch("tk/libcublas.so.9.0");
        LibraryLocator.Lookup l = LibraryLocator.locate(LibrarySpec.CUBLAS,
                paths(List.of(), List.of(), List.of(root.resolve("tk")), List.of()));
        assertThat(l.path()).contains(newest);
    }

    @Test
    void cudaHomeAndOverridesBecomeSearchDirectories() {
        SearchPaths p = SearchPaths.of(Map.of("CUDA_HOME", "/opt/cuda-13", "LD_LIBRARY_PATH", "/a:/b"), "/x", "",
                root);
        assertThat(p.overrideDirs()).containsExactly(Path.of("/x"));
        assertThat(p.ldLibraryPath()).containsExactly(Path.of("/a"), Path.of("/b"));
        assertThat(p.toolkitDirs()).startsWith(Path.of("/opt/cuda-13/lib64"), Path.of("/opt/cuda-13/lib"))
                .contains(Path.of("/usr/local/cuda/lib64"));
    }

    @Test
    void notFoundNamesTheLibraryEveryPlaceAndTheFix() {
        LibraryLocator.Lookup l = LibraryLocator.locate(LibrarySpec.CUDA_DRIVER,
                paths(List.of(root.resolve("a")), List.of(), List.of(root.resolve("b")), List.of(root.resolve("site"))));
        assertThat(l.path()).isEmpty();
        assertThat(l.notFoundMessage())
                .startsWith("libcuda.so.1 not found (searched: " + root.resolve("a") + ", ldconfig -p, " + root.resolve("b") + ")")
                .endsWith("install the NVIDIA driver or run with --device cpu");
        assertThat(CudaRuntime.probeLibrary(LibrarySpec.CUDA_DRIVER, paths(List.of(), List.of(), List.of(), List.of())))
                .satisfies(a -> {
                    assertThat(a.available()).isFalse();
                    assertThat(a.reason()).contains("libcuda.so.1 not found (searched: ldconfig -p)");
                });
    }
}
