package dev.bulkhead.engine;

import java.lang.foreign.MemorySegment;

/**
 * The two JVM flags the engine cannot run without, checked before a model is loaded so that a missing one is a
 * one-line error naming the flag, not a {@code NoClassDefFoundError} from the middle of a forward pass or a
 * tokenizer "rejected" by a native-access denial.
 */
final class JvmRequirements {

    static final String VECTOR_FLAG = "--add-modules jdk.incubator.vector";
    static final String NATIVE_FLAG = "--enable-native-access=ALL-UNNAMED";

    private static volatile boolean checked;

    private JvmRequirements() {
    }

    /** Throws {@link IllegalStateException} naming the flag to add when the JVM lacks one. */
    static void check() {
        if (checked) {
            return;
        }
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            throw new IllegalStateException("Bulkhead's CPU backend needs the Vector API: add " + VECTOR_FLAG
                    + " to the java command (or to JAVA_TOOL_OPTIONS, or Surefire's argLine)");
        }
        Module self = JvmRequirements.class.getModule();
        if (!self.isNativeAccessEnabled()) {
            // NOTE: without the flag the JVM permits native access with a warning unless it runs with
            // --illegal-native-access=deny; one restricted call tells which, and costs nothing.
            try {
                MemorySegment.NULL.reinterpret(1);
            } catch (IllegalCallerException e) {
                throw new IllegalStateException("Bulkhead maps weights and calls the tokenizer through the FFM API,"
                        + " and this JVM denies native access: add " + nativeFlag(self) + " to the java command", e);
            }
        }
        checked = true;
    }

    private static String nativeFlag(Module self) {
        return self.isNamed() ? "--enable-native-access=" + self.getName() : NATIVE_FLAG;
    }
}
