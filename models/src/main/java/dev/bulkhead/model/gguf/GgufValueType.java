package dev.bulkhead.model.gguf;

/** The value types of GGUF metadata, with their on-disk ids and fixed sizes (0 for string and array). */
public enum GgufValueType {
    UINT8(0, 1),
    INT8(1, 1),
    UINT16(2, 2),
    INT16(3, 2),
    UINT32(4, 4),
    INT32(5, 4),
    FLOAT32(6, 4),
    BOOL(7, 1),
    STRING(8, 0),
    ARRAY(9, 0),
    UINT64(10, 8),
    INT64(11, 8),
    FLOAT64(12, 8);

    private final int id;
    private final int size;

    GgufValueType(int id, int size) {
        this.id = id;
        this.size = size;
    }

    /** The id written in the file. */
    public int id() {
        return id;
    }

    /** Bytes of one value on disk; 0 for the variable-length string and array types. */
    public int fixedSize() {
        return size;
    }

    /** The smallest number of bytes one value of this type can take on disk (8 for strings and arrays). */
    int minimumSize() {
        return size == 0 ? 8 : size;
    }

    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }

    public boolean isFloat() {
        return this == FLOAT32 || this == FLOAT64;
    }

    /** The type with this on-disk id, or null when the id is unknown. */
    static GgufValueType fromId(long id) {
        for (GgufValueType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }
}
