package org.ldm4j.methods.blended;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.models.clip.CLIPModel;
import org.ldm4j.models.clip.CLIPTokenizer;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Scopes;
import org.ldm4j.nn.Tensors;
import org.ldm4j.weights.HfHub;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The official ranking of Blended Latent Diffusion ({@code ldm/image_editor.py}, {@code _get_sorted_results_by_CLIP},
 * shared/design/blended.md sec. 5): each sample in [0, 1] multiplied by the binary mask (the background black),
 * resized to CLIP's input size (bilinear, no antialiasing: torchvision 0.8's tensor resize), normalised with CLIP's
 * mean and standard deviation, and scored by the cosine between its image embedding and the prompt's text embedding.
 * The official code sorts by 1 − cosine ascending; the same order is cosine descending, which {@link EditScorer}
 * ranks. It looks at the masked region only (the paper names that limitation: global coherence is not scored).
 * The official model is OpenAI's ViT-B/16 ({@link #OFFICIAL}).
 */
public final class ClipEditScore implements EditScorer {
    /** The official code's CLIP ({@code clip.load("ViT-B/16")}), as a transformers repository. */
    public static final String OFFICIAL = "openai/clip-vit-base-patch16";

    private static final float[] MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
    private static final float[] STD = {0.26862954f, 0.26130258f, 0.27577711f};

    private final CLIPModel clip;
    private final CLIPTokenizer tokenizer;
    private final Map<String, Tensor> textEmbeds = new HashMap<>();

    public ClipEditScore(CLIPModel clip, CLIPTokenizer tokenizer) {
        this.clip = clip;
        this.tokenizer = tokenizer;
    }

    /**
     * A CLIP folder (transformers layout: config.json, weights, vocab.json + merges.txt or tokenizer.json) or a
     * Hugging Face id ({@code org/name[@revision]}, fetched into the standard cache; only config, tokenizer and one
     * copy of the weights).
     */
    public static ClipEditScore load(String spec, Device device) throws IOException {
        Path folder = Path.of(spec);
        if (!Files.isDirectory(folder)) {
            if (!org.ldm4j.pipeline.ModelLoader.isHubId(spec)) {
                throw new java.nio.file.NoSuchFileException(spec, null, "no such CLIP folder, and not a Hugging Face id (org/name)");
            }
            String[] parts = spec.split("@", 2);
            folder = HfHub.fromEnvironment().transformersModel(parts[0], parts.length > 1 ? parts[1] : "main");
        }
        return new ClipEditScore(CLIPModel.load(folder, device, ScalarType.Float), CLIPTokenizer.load(folder));
    }

    @Override public double score(Tensor edited, Tensor source, Tensor mask, String prompt) {
        Tensor image = Dtypes.to(clipInput(edited, mask), device(), ScalarType.Float);
        return CLIPModel.cosine(clip.imageEmbeds(image), textEmbeds(prompt)).item_double();
    }

    @Override public String name() { return "clip"; }

    /**
     * The sample as the official code feeds CLIP: (1, 3, S, S), from {@code edited} (1, 3, H, W) in [-1, 1] and
     * {@code mask} (1, 1, H, W) binarised at 0.5.
     */
    public Tensor clipInput(Tensor edited, Tensor mask) {
        int size = clip.config().vision().imageSize();
        Tensor unit = edited.to(ScalarType.Float).add(new Scalar(1.0)).mul(new Scalar(0.5))
                .clamp(new ScalarOptional(new Scalar(0.0)), new ScalarOptional(new Scalar(1.0)));
        Tensor binary = mask.to(ScalarType.Float).ge(new Scalar(0.5)).to(ScalarType.Float);
        Tensor masked = unit.mul(binary);
        Tensor resized = torch.upsample_bilinear2d(masked, new long[]{size, size}, false);
        Tensor mean = Tensors.ofFloats(MEAN, 1, 3, 1, 1), std = Tensors.ofFloats(STD, 1, 3, 1, 1);
        return resized.sub(mean).div(std);
    }

    /** The prompt's text embedding, computed once per prompt. */
    private synchronized Tensor textEmbeds(String prompt) {
        return textEmbeds.computeIfAbsent(prompt, p -> {
            long[] ids = tokenizer.encode(p).idsAsLongs();
            Tensor t = Tensors.ofLongs(ids, 1, ids.length);
            return Scopes.keep(clip.textEmbeds(Dtypes.to(t, device(), ScalarType.Long)));
        });
    }

    private Device device() { return clip.visualProjection.weight.t().device(); }
}
