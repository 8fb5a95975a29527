package org.ldm4j.models.attention;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Scopes;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * An observer: computes attention explicitly at selected sites and keeps the maps, (B, heads, N, M) float32 per
 * site path, for GradOP region semantics and FG-DM attention distillation (shared/design/fgdm.md §5). Other sites run
 * the fused {@link SdpaProcessor}. The layer outputs are those of plain attention.
 *
 * <p>Maps are detached unless {@code withGradient}: then they stay in the autograd graph so a loss on them reaches
 * the inputs and weights (FG-DM's official code detaches them, which silently gives no gradient). Select sites
 * carefully: a 64x64 self-attention map at batch 2 with 8 heads is 1 GiB. A later call at the same path replaces
 * the earlier map; use one instance per UNet call or {@link #clear()} between calls.
 */
public final class AttentionMaps implements AttentionProcessor {
    /** What is kept: the softmax probabilities, or the scaled scores q kᵀ/√d before the softmax. */
    public enum What { PROBABILITIES, SCORES }

    private final Predicate<AttentionSite> where;
    private final boolean withGradient;
    private final What what;
    private final Map<String, AttentionSite> sites = new LinkedHashMap<>();
    private final Map<String, Tensor> maps = new LinkedHashMap<>();

    /** Records the softmax maps of every site, detached. */
    public AttentionMaps() { this(site -> true, false, What.PROBABILITIES); }

    public AttentionMaps(Predicate<AttentionSite> where, boolean withGradient) { this(where, withGradient, What.PROBABILITIES); }

    public AttentionMaps(Predicate<AttentionSite> where, boolean withGradient, What what) {
        this.where = where;
        this.withGradient = withGradient;
        this.what = what;
    }

    /** Cross-attention layers on a side x side feature map (e.g. 16 for SD's 16x16 layers at 512 px). */
    public static Predicate<AttentionSite> crossAt(int side) { return s -> s.isCross() && s.resolution(side); }

    @Override
    public Tensor apply(Attention attn, Tensor hidden, Tensor context, AttentionSite site) {
        if (!where.test(site)) return SdpaProcessor.INSTANCE.apply(attn, hidden, context, site);
        Tensor kv = context != null ? context : hidden;
        Tensor q = Attention.float32(attn.query(hidden));
        Tensor k = Attention.float32(attn.key(kv));
        Tensor v = Attention.float32(attn.value(kv));
        Tensor scores = torch.matmul(q, k.transpose(2, 3)).mul(new org.bytedeco.pytorch.Scalar(attn.scale)); // (B, h, N, M)
        Tensor probs = torch.softmax(scores, -1);
        Tensor kept = what == What.PROBABILITIES ? probs : scores;
        Tensor stored = Scopes.keep(withGradient ? kept : kept.detach());
        synchronized (this) {
            sites.put(site.path(), site);
            maps.put(site.path(), stored);
        }
        return attn.output(torch.matmul(probs, v));
    }

    /** The map recorded at a path, or null. */
    public synchronized Tensor get(String path) { return maps.get(path); }

    /** The site recorded at a path (with its feature-map size), or null. */
    public synchronized AttentionSite site(String path) { return sites.get(path); }

    /** Recorded maps by path, in call order. */
    public synchronized Map<String, Tensor> maps() { return Collections.unmodifiableMap(new LinkedHashMap<>(maps)); }

    /** Recorded sites in call order. */
    public synchronized List<AttentionSite> sites() { return new ArrayList<>(sites.values()); }

    public synchronized void clear() {
        sites.clear();
        maps.clear();
    }
}
