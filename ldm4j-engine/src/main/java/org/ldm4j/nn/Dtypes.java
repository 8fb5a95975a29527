package org.ldm4j.nn;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Locale;

/** dtype and device helpers. JavaCPP enums must be compared by {@code .value}, never with {@code ==}. */
public final class Dtypes {
    private Dtypes() {}

    public static boolean same(ScalarType a, ScalarType b) { return a.value == b.value; }

    public static boolean isFloat32(Tensor t) { return same(t.scalar_type(), ScalarType.Float); }

    public static ScalarTypeOptional optional(ScalarType t) { return new ScalarTypeOptional(t); }

    public static TensorOptions options(Device device, ScalarType dtype) {
        return new TensorOptions().dtype(optional(dtype)).device(new org.bytedeco.pytorch.DeviceOptional(device));
    }

    /** Moves and casts in one call; returns {@code t} itself when nothing changes. */
    public static Tensor to(Tensor t, Device device, ScalarType dtype) {
        boolean sameType = same(t.scalar_type(), dtype);
        boolean sameDevice = t.device().type().value == device.type().value && t.device().index() == device.index();
        if (sameType && sameDevice) return t;
        return t.to(options(device, dtype), false, false, new org.bytedeco.pytorch.MemoryFormatOptional());
    }

    /** Parses "fp32"/"float32", "bf16"/"bfloat16", "fp16"/"float16". */
    public static ScalarType parse(String name) {
        switch (name.toLowerCase(Locale.ROOT)) {
            case "fp32": case "float32": case "f32": case "float": return ScalarType.Float;
            case "bf16": case "bfloat16": return ScalarType.BFloat16;
            case "fp16": case "float16": case "f16": case "half": return ScalarType.Half;
            default: throw new IllegalArgumentException("unknown dtype '" + name + "' (expected fp32, bf16 or fp16)");
        }
    }

    /**
     * Parses "cpu", "cuda", "cuda:1". A CUDA device this process cannot use (a CPU-only build of the natives, no GPU,
     * an index past the last GPU) is refused here by name, not later by libtorch from deep inside a model.
     */
    public static Device device(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (!n.equals("cpu") && !n.equals("cuda") && !n.matches("cuda:\\d+")) {
            throw new IllegalArgumentException("unknown device '" + name + "' (expected cpu, cuda or cuda:N)");
        }
        if (n.startsWith("cuda")) {
            if (!org.bytedeco.pytorch.global.torch.hasCUDA()) {
                throw new IllegalArgumentException("device '" + name + "': these PyTorch natives have no CUDA support "
                        + "(a GPU needs the -gpu natives: org.bytedeco:pytorch with the linux-x86_64-gpu classifier, and CUDA)");
            }
            int count = org.bytedeco.pytorch.global.torch.cuda_device_count();
            int index = n.equals("cuda") ? 0 : Integer.parseInt(n.substring(5));
            if (index >= count) {
                throw new IllegalArgumentException("device '" + name + "': " + (count == 0 ? "no CUDA GPU is visible" : "only " + count + " CUDA GPU(s) visible"));
            }
        }
        return new Device(n);
    }

    public static String name(ScalarType t) {
        if (same(t, ScalarType.Float)) return "fp32";
        if (same(t, ScalarType.BFloat16)) return "bf16";
        if (same(t, ScalarType.Half)) return "fp16";
        if (same(t, ScalarType.Double)) return "fp64";
        if (same(t, ScalarType.Long)) return "int64";
        return t.toString();
    }
}
