package org.ldm4j.weights;

import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The safetensors element types that have a libtorch counterpart, with their byte sizes
 * (safetensors {@code tensor.rs}, {@code Dtype::size}). Data is little-endian, C order.
 */
public enum SafetensorsDtype {
    BOOL(1, ScalarType.Bool), U8(1, ScalarType.Byte), I8(1, ScalarType.Char),
    F8_E5M2(1, ScalarType.Float8_e5m2), F8_E4M3(1, ScalarType.Float8_e4m3fn),
    I16(2, ScalarType.Short), U16(2, ScalarType.UInt16), F16(2, ScalarType.Half), BF16(2, ScalarType.BFloat16),
    I32(4, ScalarType.Int), U32(4, ScalarType.UInt32), F32(4, ScalarType.Float),
    F64(8, ScalarType.Double), I64(8, ScalarType.Long), U64(8, ScalarType.UInt64);

    private final int size;
    private final ScalarType scalarType;

    SafetensorsDtype(int size, ScalarType scalarType) {
        this.size = size;
        this.scalarType = scalarType;
    }

    public int size() { return size; }

    public ScalarType scalarType() { return scalarType; }

    /** Parses a header dtype string; throws {@link IllegalArgumentException} for unknown names. */
    public static SafetensorsDtype of(String name) {
        for (SafetensorsDtype d : values()) if (d.name().equals(name)) return d;
        throw new IllegalArgumentException("unknown safetensors dtype '" + name + "'");
    }

    /** Returns null for unknown names. */
    static SafetensorsDtype orNull(String name) {
        for (SafetensorsDtype d : values()) if (d.name().equals(name)) return d;
        return null;
    }

    /** The safetensors dtype of a libtorch scalar type (JavaCPP enums compared by value). */
    public static SafetensorsDtype of(ScalarType t) {
        for (SafetensorsDtype d : values()) if (d.scalarType.value == t.value) return d;
        throw new IllegalArgumentException("libtorch dtype " + t + " has no safetensors equivalent");
    }
}
