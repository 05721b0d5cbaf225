package dev.bulkhead.engine.internal.cpu;

import dev.bulkhead.engine.EngineOptions;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.ffi.SearchPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How the optional BLAS path finds OpenBLAS and how it fails: runs with or without OpenBLAS installed. */
class OpenBlasLookupTest {

    @TempDir
    Path dir;

    private SearchPaths only(Path... dirs) {
        return new SearchPaths(List.of(dirs), List.of(), List.of(), List.of(), List.of());
    }

    @Test
    void absentLibraryFailsNamingTheFlagTheLibraryAndTheFix() {
        assertThatThrownBy(() -> OpenBlas.locate("", only(dir)))
                .isInstanceOf(CpuGemmUnavailableException.class)
                .hasMessageContaining("--cpu-gemm openblas")
                .hasMessageContaining("libopenblas.so.0 not found")
                .hasMessageContaining(dir.toString())
                .hasMessageContaining("apt-get install libopenblas0-pthread")
                .hasMessageContaining("--cpu-gemm java");
    }

    @Test
    void findsTheLibraryInAFolderAndPrefersTheSonameToTheDevLink() throws Exception {
        Files.createFile(dir.resolve("libopenblas.so"));
        Files.createFile(dir.resolve("libopenblas.so.0"));
        assertThat(OpenBlas.locate("", only(dir))).isEqualTo(dir.resolve("libopenblas.so.0"));
    }

    @Test
    void aFileNamedByTheUserIsTakenAsItIs() throws Exception {
        Path f = Files.createFile(dir.resolve("my-blas.so"));
        assertThat(OpenBlas.locate(f.toString())).isEqualTo(f);
    }

    @Test
    void aMissingPathNamedByTheUserIsAnErrorNotASearch() {
        String missing = dir.resolve("nope/libopenblas.so.0").toString();
        assertThatThrownBy(() -> OpenBlas.locate(missing))
                .isInstanceOf(CpuGemmUnavailableException.class)
                .hasMessageContaining(CpuGemmSettings.LIBRARY_PROPERTY + "=" + missing)
                .hasMessageContaining("neither a file nor a folder");
    }

    @Test
    void aFileThatIsNotALibraryFailsToLoadWithItsName() throws Exception {
        Path f = Files.writeString(dir.resolve("libopenblas.so.0"), "not an ELF file");
        assertThatThrownBy(() -> OpenBlas.load(f.toString(), true))
                .isInstanceOf(CpuGemmUnavailableException.class)
                .hasMessageContaining("cannot load " + f);
    }

    @Test
    void javaIsTheDefaultAndNeedsNoLibrary() {
        assertThat(CpuGemmSettings.fromSystemProperties().kind()).isEqualTo(EngineOptions.CpuGemm.JAVA);
        assertThat(BlasGemm.create(CpuGemmSettings.JAVA)).isNull();
    }

    @Test
    void engineOptionsDefaultToJavaAndCarryTheChoice() {
        assertThat(EngineOptions.defaults().cpuGemm()).isEqualTo(EngineOptions.CpuGemm.JAVA);
        EngineOptions o = EngineOptions.defaults().withCpuGemm(EngineOptions.CpuGemm.OPENBLAS).withThreads(3);
        assertThat(o.cpuGemm()).isEqualTo(EngineOptions.CpuGemm.OPENBLAS);
        assertThat(CpuGemmSettings.of(o.cpuGemm()).minTokens()).isEqualTo(CpuGemmSettings.DEFAULT_MIN_TOKENS);
    }

    @Test
    void kindsParseAndABadOneNamesTheFlag() {
        assertThat(EngineOptions.CpuGemm.parse(" OpenBLAS ")).isEqualTo(EngineOptions.CpuGemm.OPENBLAS);
        assertThat(EngineOptions.CpuGemm.parse("java")).isEqualTo(EngineOptions.CpuGemm.JAVA);
        assertThatThrownBy(() -> EngineOptions.CpuGemm.parse("mkl")).hasMessageContaining("--cpu-gemm must be java or openblas");
        assertThatThrownBy(() -> new CpuGemmSettings(EngineOptions.CpuGemm.OPENBLAS, "", 0, true)).hasMessageContaining("minTokens");
    }

    @Test
    void openBlasAskedAtAMissingPathFailsBeforeAnythingIsBuilt() {
        CpuGemmSettings gemm = new CpuGemmSettings(EngineOptions.CpuGemm.OPENBLAS, dir.resolve("missing.so").toString(),
                CpuGemmSettings.DEFAULT_MIN_TOKENS, true);
        assertThatThrownBy(() -> BlasGemm.create(gemm)).isInstanceOf(CpuGemmUnavailableException.class)
                .hasMessageContaining("--cpu-gemm openblas");
    }
}
