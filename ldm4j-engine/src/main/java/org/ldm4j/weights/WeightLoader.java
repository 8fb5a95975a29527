package org.ldm4j.weights;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Param;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Assigns the tensors of a {@link WeightSource} to the parameters of a {@link Block} by dotted name.
 *
 * <p>Strict: every parameter must be present with its declared shape and every tensor of the source must be used
 * (except those {@code ignored}, e.g. the {@code position_ids} buffer of old CLIP saves). All problems are collected
 * and reported in one {@link WeightFormatException} naming each tensor, so a wrong checkpoint is diagnosed in one run.
 * A source tensor of shape (out, in, 1, 1) loads into a 2-D (out, in) parameter: original LDM checkpoints store the
 * VAE attention projections as 1x1 convolutions.
 *
 * <p>{@link #loadReporting} is the non-strict mode (PyTorch's {@code load_state_dict(strict=False)}): it loads what
 * matches, leaves missing parameters as they are and returns the missing and unexpected names instead of throwing.
 * A tensor with the right name but the wrong shape still throws, as in PyTorch: it is never a partial load anybody
 * wants, it is a different model.
 */
public final class WeightLoader {
    private static final int LISTED = 12;

    private WeightLoader() {}

    public static void load(Block block, WeightSource source, String component) {
        load(block, source, component, name -> false);
    }

    /** What a non-strict load left out: parameters the source lacks, source tensors no parameter took. */
    public record Report(List<String> missing, List<String> unexpected) {
        public Report {
            missing = List.copyOf(missing);
            unexpected = List.copyOf(unexpected);
        }

        public boolean complete() { return missing.isEmpty() && unexpected.isEmpty(); }
    }

    public static void load(Block block, WeightSource source, String component, Predicate<String> ignored) {
        load(block, source, component, ignored, true);
    }

    /** Non-strict: loads every parameter the source has (shapes must match) and reports the rest. */
    public static Report loadReporting(Block block, WeightSource source, String component, Predicate<String> ignored) {
        return load(block, source, component, ignored, false);
    }

    private static Report load(Block block, WeightSource source, String component, Predicate<String> ignored, boolean strict) {
        Map<String, Param> params = block.namedParameters();
        Set<String> available = new LinkedHashSet<>(source.names());
        List<String> missing = new ArrayList<>();
        List<String> mismatched = new ArrayList<>();
        for (Map.Entry<String, Param> e : params.entrySet()) {
            String name = e.getKey();
            if (!available.remove(name)) {
                missing.add(name);
                continue;
            }
            long[] want = e.getValue().shape();
            long[] have = source.info(name).shape();
            if (!Arrays.equals(want, have) && !isPointwiseConvOfLinear(have, want)) {
                mismatched.add(name + " " + Arrays.toString(have) + " (expected " + Arrays.toString(want) + ")");
            }
        }
        available.removeIf(ignored);
        if (!mismatched.isEmpty() || (strict && (!missing.isEmpty() || !available.isEmpty()))) {
            StringBuilder msg = new StringBuilder("cannot load " + component + " weights from " + source + ":");
            list(msg, "missing", missing);
            list(msg, "unexpected", new ArrayList<>(available));
            list(msg, "wrong shape", mismatched);
            throw new WeightFormatException(msg.toString());
        }
        Set<String> absent = new java.util.HashSet<>(missing);
        for (Map.Entry<String, Param> e : params.entrySet()) {
            if (absent.contains(e.getKey())) continue;
            Param p = e.getValue();
            Tensor t = source.read(e.getKey());
            if (t.dim() != p.shape().length) t = t.reshape(p.shape());
            Tensor cur = p.t();
            boolean grad = cur.requires_grad();
            Tensor moved = Dtypes.to(t, cur.device(), cur.scalar_type());
            if (moved == t && !t.is_contiguous()) moved = t.contiguous();
            p.set(moved);
            if (grad) p.t().requires_grad_(true);
        }
        return new Report(missing, new ArrayList<>(available));
    }

    private static boolean isPointwiseConvOfLinear(long[] have, long[] want) {
        return want.length == 2 && have.length == 4 && have[0] == want[0] && have[1] == want[1] && have[2] == 1 && have[3] == 1;
    }

    private static void list(StringBuilder msg, String what, List<String> names) {
        if (names.isEmpty()) return;
        msg.append("\n  ").append(names.size()).append(' ').append(what).append(": ");
        msg.append(String.join(", ", names.subList(0, Math.min(LISTED, names.size()))));
        if (names.size() > LISTED) msg.append(", ... (").append(names.size() - LISTED).append(" more)");
    }
}
