package dev.bulkhead.kernels;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads what an uncompressed fatbin holds without the CUDA toolkit: the function symbols of each embedded
 * CUDA ELF (cubin) and the {@code .entry} names of each PTX text. Used by the build test that every
 * {@link Kernel} is in the jar, and by tools that report what a jar can run on.
 */
public final class FatbinInspector {

    /** {@code EM_CUDA}. */
    private static final int EM_CUDA = 190;
    private static final Pattern PTX_ENTRY = Pattern.compile("\\.entry\\s+([A-Za-z_][A-Za-z0-9_$]*)\\s*\\(");
    private static final Pattern PTX_TARGET = Pattern.compile("\\.target\\s+(sm_[0-9a-z]+)");

    private FatbinInspector() {
    }

    /**
     * One cubin in the fatbin.
     *
     * @param offset    where its ELF header starts
     * @param flags     its {@code e_flags} (the toolkit encodes the SM version there)
     * @param functions names of its {@code STT_FUNC} symbols
     */
    public record Cubin(int offset, int flags, Set<String> functions) {
    }

    /**
     * One PTX text in the fatbin.
     *
     * @param target  its {@code .target} (e.g. {@code sm_90})
     * @param entries its kernel entry names
     */
    public record Ptx(String target, Set<String> entries) {
    }

    /** Every CUDA ELF image in {@code fatbin}, in file order. */
    public static List<Cubin> cubins(byte[] fatbin) {
        List<Cubin> out = new ArrayList<>();
        ByteBuffer b = ByteBuffer.wrap(fatbin).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i + 64 <= fatbin.length; i++) {
            if (fatbin[i] == 0x7f && fatbin[i + 1] == 'E' && fatbin[i + 2] == 'L' && fatbin[i + 3] == 'F'
                    && fatbin[i + 4] == 2 && fatbin[i + 5] == 1 && (b.getShort(i + 0x12) & 0xffff) == EM_CUDA) {
                out.add(new Cubin(i, b.getInt(i + 0x30), functionSymbols(b, i)));
            }
        }
        return out;
    }

    /** Every PTX text in {@code fatbin}: one per {@code .version} directive. */
    public static List<Ptx> ptx(byte[] fatbin) {
        String text = new String(fatbin, StandardCharsets.ISO_8859_1);
        List<Ptx> out = new ArrayList<>();
        int start = text.indexOf(".version ");
        while (start >= 0) {
            int next = text.indexOf(".version ", start + 1);
            String body = text.substring(start, next < 0 ? text.length() : next);
            Matcher t = PTX_TARGET.matcher(body);
            Set<String> entries = new TreeSet<>();
            Matcher e = PTX_ENTRY.matcher(body);
            while (e.find()) {
                entries.add(e.group(1));
            }
            out.add(new Ptx(t.find() ? t.group(1) : "?", entries));
            start = next;
        }
        return out;
    }

    private static Set<String> functionSymbols(ByteBuffer b, int elf) {
        Set<String> names = new TreeSet<>();
        long shoff = b.getLong(elf + 0x28);
        int shentsize = b.getShort(elf + 0x3A) & 0xffff;
        int shnum = b.getShort(elf + 0x3C) & 0xffff;
        if (shoff <= 0 || shentsize < 64 || elf + shoff + (long) shnum * shentsize > b.limit()) {
            return names;
        }
        for (int s = 0; s < shnum; s++) {
            int sh = (int) (elf + shoff + (long) s * shentsize);
            if (b.getInt(sh + 4) != 2) { // SHT_SYMTAB
                continue;
            }
            long off = b.getLong(sh + 0x18);
            long size = b.getLong(sh + 0x20);
            int link = b.getInt(sh + 0x28);
            long entsize = b.getLong(sh + 0x38);
            int strSh = (int) (elf + shoff + (long) link * shentsize);
            long strOff = b.getLong(strSh + 0x18);
            if (entsize < 24 || elf + off + size > b.limit()) {
                continue;
            }
            for (long e = 0; e + entsize <= size; e += entsize) {
                int sym = (int) (elf + off + e);
                int info = b.get(sym + 4) & 0xff;
                if ((info & 0xf) == 2) { // STT_FUNC
                    names.add(cString(b, (int) (elf + strOff + (b.getInt(sym) & 0xffffffffL))));
                }
            }
        }
        return names;
    }

    private static String cString(ByteBuffer b, int at) {
        StringBuilder sb = new StringBuilder();
        for (int i = at; i < b.limit() && b.get(i) != 0; i++) {
            sb.append((char) (b.get(i) & 0xff));
        }
        return sb.toString();
    }
}
