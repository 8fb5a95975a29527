package org.ldm4j.models.attention;

/**
 * Where an {@link AttentionProcessor} is being called: the module path (diffusers naming, e.g.
 * {@code down_blocks.0.attentions.0.transformer_blocks.0.attn2}), self- or cross-attention, the spatial size of the
 * feature map the queries come from, and the block it sits in. A processor uses it to pick the layers it edits or
 * records (paint-with-words edits cross-attention only; FG-DM distils maps at chosen resolutions).
 *
 * @param path     dotted module path of the {@link Attention}; "" for a standalone module
 * @param kind     {@link Kind#CROSS} when keys/values come from the text context
 * @param height   feature-map height (query tokens = height * width)
 * @param width    feature-map width
 * @param stage    down, mid or up path of the UNet ({@link Stage#OTHER} outside a UNet)
 * @param block    index of the down/up block (0 for the mid block, -1 outside a UNet)
 * @param heads    attention heads
 * @param headDim  channels per head (the scores are scaled by 1/sqrt(headDim))
 */
public record AttentionSite(String path, Kind kind, int height, int width, Stage stage, int block, int heads, int headDim) {
    public enum Kind { SELF, CROSS }

    public enum Stage { DOWN, MID, UP, OTHER }

    public boolean isCross() { return kind == Kind.CROSS; }

    public boolean isSelf() { return kind == Kind.SELF; }

    /** Number of query tokens (spatial positions). */
    public int tokens() { return height * width; }

    /** The softmax temperature diffusers uses: 1/sqrt(headDim). */
    public double scale() { return 1.0 / Math.sqrt(headDim); }

    /** True for a square feature map of this side, e.g. {@code resolution(16)} for 16x16 cross-attention. */
    public boolean resolution(int side) { return height == side && width == side; }
}
