package org.ldm4j.methods.gradop;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.models.attention.AttentionSite;
import org.ldm4j.models.attention.ScoreBiasProcessor;
import org.ldm4j.models.clip.CLIPTokenizer;
import org.ldm4j.models.unet.UNetExtras;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Scopes;
import org.ldm4j.nn.Tensors;
import org.ldm4j.pipeline.Step;
import org.ldm4j.schedulers.SchedulerConfig;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Semantic control of painted regions by a cross-attention correspondence between prompt tokens and the painting
 * (GradOP abstract; reconstruction after eDiff-I's paint-with-words, shared/design/gradop.md §4.2 [RECON]).
 *
 * <p>Notation: region k has colour c_k, mask M_k (pixels nearest to c_k within the tolerance), phrase tokens J_k and
 * weight w_k. At a cross-attention layer on an r_h x r_w feature map, M_k is area-averaged to that size and
 * <pre>
 *   W_r[n, j] = Σ_k w_k · (M_k↓r)[n] · [j ∈ J_k]                    (r_h·r_w, 77)
 *   scores_cond ← scores_cond + ω_t · W_r,   ω_t = w' · log(1 + σ_t) · max(scores_cond),   σ_t = √((1 − ᾱ_t)/ᾱ_t)
 * </pre>
 * on the scaled scores q kᵀ/√d of the conditional half of the CFG batch only ([uncond; cond]); self-attention and the
 * unconditional half are untouched. log(1 + σ_t) makes the bias strong early (2.65 at t = 981), when layout is decided,
 * and negligible at the end (0.04 at t = 1). max is taken over the conditional half of the score block (one block for
 * cross-attention up to 768² px; paint-with-words takes it over the whole batch).
 */
public final class RegionSemantics {
    /** How a region mask reaches a coarser feature map: each cell's coverage (eDiff-I's) or any coverage as 1. */
    public enum Pooling { AREA, MAX }

    private final RegionSettings settings;
    private final Pooling pooling;
    private final Tensor masks;            // (1, K, H, W) float32 in {0, 1}
    private final Tensor tokenWeights;     // (K, M): w_k at the token positions of phrase k
    private final int[][] tokens;
    private final Map<Long, Tensor> perResolution = new HashMap<>();

    private RegionSemantics(RegionSettings settings, Pooling pooling, Tensor masks, Tensor tokenWeights, int[][] tokens) {
        this.settings = settings;
        this.pooling = pooling;
        this.masks = masks;
        this.tokenWeights = tokenWeights;
        this.tokens = tokens;
    }

    /**
     * @param painting (1, 3, H, W) in [0, 1]
     * @param encoding the prompt's tokenisation ({@code PromptConditioning.encoding()})
     * @throws IllegalArgumentException for an empty list, a phrase not in the prompt, a colour not in the painting
     */
    public static RegionSemantics build(Tensor painting, RegionSettings settings, CLIPTokenizer tokenizer,
                                        CLIPTokenizer.Encoding encoding) {
        settings.validate();
        StrokePainting.check(painting, 1, "painting");
        List<Region> regions = settings.regions();
        int k = regions.size();
        int[][] tokens = new int[k][];
        double[] weights = new double[k];
        for (int r = 0; r < k; r++) {
            tokens[r] = tokenizer.tokenIndicesOf(regions.get(r).phrase(), encoding);
            weights[r] = regions.get(r).weight();
        }
        Tensor masks = Scopes.keep(masksOf(painting, regions, settings.tolerance()));
        return new RegionSemantics(settings, Pooling.AREA, masks, tokenWeights(tokens, weights, encoding.ids().length), tokens);
    }

    /** (K, M): region r's weight at each of its token positions, 0 elsewhere. */
    private static Tensor tokenWeights(int[][] tokens, double[] regionWeights, int contextLength) {
        float[] w = new float[tokens.length * contextLength];
        for (int r = 0; r < tokens.length; r++) {
            for (int j : tokens[r]) {
                if (j < 0 || j >= contextLength) throw new IllegalArgumentException("token position " + j + " outside the context of " + contextLength);
                w[r * contextLength + j] += (float) regionWeights[r];
            }
        }
        return Scopes.keep(Tensors.ofFloats(w, tokens.length, contextLength));
    }

    /**
     * The same correspondence from masks given directly (Blended Latent Diffusion's edit mask: the prompt's tokens
     * inside the region to edit), without a painting.
     *
     * @param masks         (1, K, H, W) float32 in [0, 1], one channel per region
     * @param tokens        per region, the positions in the context it weighs (weight 1 each)
     * @param strength      w'
     * @param contextLength M, the text encoder's sequence length
     * @param pooling       how the masks reach coarser cross-attention layers
     */
    public static RegionSemantics ofMasks(Tensor masks, int[][] tokens, double strength, int contextLength, Pooling pooling) {
        if (masks.dim() != 4 || masks.size(0) != 1 || masks.size(1) != tokens.length) {
            throw new IllegalArgumentException("region masks must be (1, " + tokens.length + ", H, W), got "
                    + java.util.Arrays.toString(masks.sizes().vec().get()));
        }
        if (!(Double.isFinite(strength) && strength >= 0)) throw new IllegalArgumentException("region strength must be >= 0, got " + strength);
        double[] ones = new double[tokens.length];
        java.util.Arrays.fill(ones, 1.0);
        Tensor cpuMasks = Dtypes.to(masks.detach(), new org.bytedeco.pytorch.Device("cpu"), org.bytedeco.pytorch.global.torch.ScalarType.Float);
        return new RegionSemantics(new RegionSettings(List.of(), strength, 0), pooling, Scopes.keep(cpuMasks.clone()),
                tokenWeights(tokens, ones, contextLength), tokens);
    }

    /** Nearest listed colour within the tolerance, per pixel: (1, K, H, W) in {0, 1}. */
    static Tensor masksOf(Tensor painting, List<Region> regions, double tolerance) {
        int k = regions.size();
        float[] colours = new float[k * 3];
        for (int r = 0; r < k; r++) {
            java.awt.Color c = regions.get(r).colour();
            colours[3 * r] = c.getRed();
            colours[3 * r + 1] = c.getGreen();
            colours[3 * r + 2] = c.getBlue();
        }
        Tensor rgb = Dtypes.to(painting.detach(), new org.bytedeco.pytorch.Device("cpu"), org.bytedeco.pytorch.global.torch.ScalarType.Float)
                .mul(new Scalar(255.0));                                                          // (1, 3, H, W)
        Tensor pal = Tensors.ofFloats(colours, 1, k, 3, 1, 1);
        Tensor dist = rgb.unsqueeze(1).sub(pal).pow(new Scalar(2.0))
                .sum(new long[]{2}, false, new org.bytedeco.pytorch.ScalarTypeOptional()).sqrt();    // (1, K, H, W)
        org.bytedeco.pytorch.T_TensorTensor_T nearest = dist.min(1, true);
        Tensor within = nearest.get0().le(new Scalar(tolerance));                                // (1, 1, H, W)
        Tensor idx = torch.arange(new Scalar(k)).reshape(1, k, 1, 1);
        Tensor masks = nearest.get1().eq(idx).logical_and(within).to(org.bytedeco.pytorch.global.torch.ScalarType.Float);
        float[] area = Tensors.toFloats(masks.sum(new long[]{0, 2, 3}, false, new org.bytedeco.pytorch.ScalarTypeOptional()));
        for (int r = 0; r < k; r++) {
            if (area[r] == 0) {
                throw new IllegalArgumentException("region colour " + regions.get(r).hexColour() + " (\"" + regions.get(r).phrase()
                        + "\") does not occur in the painting within tolerance " + tolerance);
            }
        }
        return masks;
    }

    public RegionSettings settings() { return settings; }

    /** The full-resolution masks (1, K, H, W). */
    public Tensor masks() { return masks; }

    /** Token positions of region k's phrase in the prompt. */
    public int[] tokens(int region) { return tokens[region].clone(); }

    /**
     * The masks on a feature map: (1, K, h, w); each value is the region's coverage of that cell (AREA), or 1 where
     * the region touches the cell (MAX: a mask of one latent cell keeps its full weight on coarser layers).
     */
    public Tensor masksAt(long h, long w) {
        return pooling == Pooling.MAX ? torch.adaptive_max_pool2d(masks, h, w).get0() : torch.adaptive_avg_pool2d(masks, h, w);
    }

    /** W_r (h·w, M) for an h x w feature map, cached per size. */
    public synchronized Tensor weightsAt(long h, long w) {
        return perResolution.computeIfAbsent(h << 32 | w, key -> {
            Tensor cells = masksAt(h, w).reshape(masks.size(1), h * w);             // (K, h·w)
            return Scopes.keep(cells.t().matmul(tokenWeights));                     // (h·w, M)
        });
    }

    /** ω_t / max(scores) = w'·log(1 + σ_t) at ᾱ_t. */
    public double omegaFactor(double alphaBar) {
        double sigma = Math.sqrt((1 - alphaBar) / alphaBar);
        return settings.strength() * Math.log1p(sigma);
    }

    /**
     * The edit of a block of scaled cross-attention scores (B, heads, rows, M): the bias is added to the conditional
     * half (rows B/2..B-1 of the batch) when {@code guided}, to the whole batch otherwise.
     */
    public ScoreBiasProcessor.ScoreFunction scoreEdit(double omegaFactor, boolean guided) {
        return (site, scores, firstQuery) -> {
            Tensor w = weightsAt(site.height(), site.width());
            if (scores.size(3) != w.size(1)) return scores;    // not the prompt's context
            Tensor bias = Dtypes.to(w.narrow(0, firstQuery, scores.size(2)), scores.device(), scores.scalar_type());  // (rows, M)
            long b = scores.size(0);
            if (!guided) return scores.add(bias.mul(scores.max().mul(new Scalar(omegaFactor))));
            Tensor uncond = scores.narrow(0, 0, b / 2), cond = scores.narrow(0, b / 2, b - b / 2);
            Tensor edited = cond.add(bias.mul(cond.max().mul(new Scalar(omegaFactor))));
            return torch.cat(new TensorVector(uncond, edited), 0);
        };
    }

    /** The processor for one UNet call at ᾱ_t: the edit at every cross-attention layer, fused SDPA elsewhere. */
    public ScoreBiasProcessor processor(double alphaBar, boolean guided) {
        return ScoreBiasProcessor.editingScores(AttentionSite::isCross, scoreEdit(omegaFactor(alphaBar), guided));
    }

    /** Per-step UNet extras for {@code ClassifierFreeGuidance}: ᾱ_t read from the run's noise schedule. */
    public Function<Step, UNetExtras> extras(SchedulerConfig schedule, boolean guided) {
        float[] alphaBar = schedule.noiseSchedule().alphasCumprod();
        return step -> {
            int t = (int) Math.max(0, Math.min(alphaBar.length - 1, Math.round(step.t())));
            return UNetExtras.attention(processor(alphaBar[t], guided));
        };
    }
}
