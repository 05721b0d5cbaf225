package dev.bulkhead.ffi;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Finds a native library file by the rules of {@link SearchPaths}: explicit override, LD_LIBRARY_PATH,
 * {@code ldconfig -p}, the CUDA toolkit and system directories, then pip's {@code nvidia-*} wheels
 * ({@code site-packages/nvidia/<pkg>/lib}). Pure file-system logic, so it is tested on fake layouts.
 */
public final class LibraryLocator {

    private LibraryLocator() {
    }

    /**
     * The result of a search.
     *
     * @param spec     what was searched for
     * @param path     the file found, if any
     * @param searched every directory looked in, in order (for the error message)
     */
    public record Lookup(LibrarySpec spec, Optional<Path> path, List<String> searched) {

        public Lookup {
            searched = List.copyOf(searched);
        }

        /** The message for a failed search: what is missing, where it looked, how to fix it. */
        public String notFoundMessage() {
            return spec.displayName() + " not found (searched: " + String.join(", ", searched) + "); "
                    + spec.installHint();
        }
    }

    /** Searches {@code paths} for {@code spec}. */
    public static Lookup locate(LibrarySpec spec, SearchPaths paths) {
        Set<Path> dirs = new LinkedHashSet<>();
        dirs.addAll(paths.overrideDirs());
        dirs.addAll(paths.ldLibraryPath());
        List<String> searched = new ArrayList<>();
        for (Path dir : dirs) {
            Optional<Path> hit = inDirectory(spec, dir);
            searched.add(dir.toString());
            if (hit.isPresent()) {
                return new Lookup(spec, hit, searched);
            }
        }
        searched.add("ldconfig -p");
        for (String name : spec.fileNames()) {
            for (Path f : paths.ldconfigFiles()) {
                if (f.getFileName() != null && f.getFileName().toString().equals(name) && Files.exists(f)) {
                    return new Lookup(spec, Optional.of(f), searched);
                }
            }
        }
        Set<Path> rest = new LinkedHashSet<>(paths.toolkitDirs());
        if (spec.pipPackage() != null) {
            for (Path site : paths.sitePackages()) {
                rest.add(site.resolve("nvidia").resolve(spec.pipPackage()).resolve("lib"));
            }
        }
        rest.removeAll(dirs);
        for (Path dir : rest) {
            Optional<Path> hit = inDirectory(spec, dir);
            searched.add(dir.toString());
            if (hit.isPresent()) {
                return new Lookup(spec, hit, searched);
            }
        }
        return new Lookup(spec, Optional.empty(), searched);
    }

    /** The first exact file name present in {@code dir}, else the newest file matching the prefix. */
    static Optional<Path> inDirectory(LibrarySpec spec, Path dir) {
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        for (String name : spec.fileNames()) {
            Path f = dir.resolve(name);
            if (Files.exists(f)) {
                return Optional.of(f);
            }
        }
        if (spec.filePrefix() == null) {
            return Optional.empty();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(spec.filePrefix()))
                    .max(Comparator.comparing(p -> versionKey(p.getFileName().toString(), spec.filePrefix())));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** {@code libcublas.so.12.4.5} → "00012.00004.00005", so that string order is version order. */
    private static String versionKey(String fileName, String prefix) {
        StringBuilder key = new StringBuilder();
        for (String part : fileName.substring(prefix.length()).split("\\.")) {
            String digits = part.replaceAll("\\D", "");
            key.append(String.format("%05d.", digits.isEmpty() ? 0 : Integer.parseInt(digits.substring(0, Math.min(5, digits.length())))));
        }
        return key.toString();
    }
}
