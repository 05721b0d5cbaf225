package dev.bulkhead.router;

/** One model could not be (re)loaded; the others are unaffected. */
public class ModelLoadException extends RuntimeException {

    private final String model;
    private final boolean permanent;

    public ModelLoadException(String model, String message, boolean permanent) {
        super(message);
        this.model = model;
        this.permanent = permanent;
    }

    public String model() {
        return model;
    }

    /** True when retrying cannot help without a configuration change (it does not fit its budget). */
    public boolean permanent() {
        return permanent;
    }
}
