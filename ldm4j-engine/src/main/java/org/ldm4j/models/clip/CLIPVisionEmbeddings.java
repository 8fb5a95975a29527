package org.ldm4j.models.clip;

import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Conv2d;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Embedding;
import org.ldm4j.nn.Param;

/**
 * transformers {@code CLIPVisionEmbeddings}: the image cut into patch_size² patches by a strided convolution without
 * bias, a learned class token in front, plus a learned absolute position embedding (1 + grid² positions; patches in
 * row-major order).
 */
public final class CLIPVisionEmbeddings extends Block {
    public final Param classEmbedding;          // (C)
    public final Conv2d patchEmbedding;
    public final Embedding positionEmbedding;
    private final CLIPVisionConfig config;

    public CLIPVisionEmbeddings(CLIPVisionConfig config) {
        this.config = config;
        int c = config.hiddenSize();
        classEmbedding = param("class_embedding", 1.0, c);
        patchEmbedding = child("patch_embedding", new Conv2d(config.numChannels(), c, config.patchSize(), config.patchSize(), 0, false));
        positionEmbedding = child("position_embedding", new Embedding(config.gridSize() * config.gridSize() + 1, c));
    }

    /** pixels (B, channels, image_size, image_size), normalised as CLIP expects -> (B, 1 + grid², C). */
    public Tensor forward(Tensor pixels) {
        if (pixels.dim() != 4 || pixels.size(1) != config.numChannels() || pixels.size(2) != config.imageSize()
                || pixels.size(3) != config.imageSize()) {
            throw new IllegalArgumentException("CLIP vision expects (B, " + config.numChannels() + ", " + config.imageSize() + ", "
                    + config.imageSize() + ") pixels, got " + java.util.Arrays.toString(pixels.sizes().vec().get()));
        }
        long b = pixels.size(0);
        Tensor patches = patchEmbedding.forward(pixels).flatten(2, 3).transpose(1, 2);          // (B, grid², C)
        Tensor cls = classEmbedding.t().to(patches.scalar_type()).view(1, 1, -1).expand(b, 1, -1);
        Tensor tokens = torch.cat(new TensorVector(cls, patches), 1);                            // (B, 1 + grid², C)
        Tensor positions = torch.arange(new Scalar(tokens.size(1)), new TensorOptions().dtype(Dtypes.optional(ScalarType.Long))
                .device(new DeviceOptional(pixels.device())));
        return tokens.add(positionEmbedding.forward(positions).unsqueeze(0));
    }
}
