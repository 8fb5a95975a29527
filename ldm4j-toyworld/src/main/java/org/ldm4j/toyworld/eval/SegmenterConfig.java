package org.ldm4j.toyworld.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.ldm4j.toyworld.ToyClass;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * Architecture of the {@link ToyWorldSegmenter}, stored as {@code config.json} next to its weights.
 *
 * @param channels   channels per resolution level, full resolution first; level i runs at 1/2^i of the input
 * @param numClasses output classes ({@link ToyClass#count()} for ToyWorld)
 * @param normGroups GroupNorm groups (must divide every channel count)
 */
public record SegmenterConfig(int[] channels, int numClasses, int normGroups) {
    public SegmenterConfig {
        if (channels == null || channels.length < 2) throw new IllegalArgumentException("segmenter needs at least 2 channel levels");
        for (int c : channels) {
            if (c <= 0 || c % normGroups != 0) {
                throw new IllegalArgumentException("segmenter channels " + Arrays.toString(channels) + " must be positive multiples of norm_groups " + normGroups);
            }
        }
        if (numClasses < 2) throw new IllegalArgumentException("segmenter needs at least 2 classes, got " + numClasses);
        channels = channels.clone();
    }

    /** The ToyWorld default: 1.18 M parameters, 128-dim embedding, about 0.7 GMAC per 64x64 image. */
    public static SegmenterConfig toyWorld() { return new SegmenterConfig(new int[]{32, 64, 96, 128}, ToyClass.count(), 8); }

    /** The input side must be a multiple of this (other sizes are padded internally). */
    public int sizeMultiple() { return 1 << (channels.length - 1); }

    /** Dimension of {@link ToyWorldSegmenter#embed} vectors: the bottleneck width. */
    public int embeddingDim() { return channels[channels.length - 1]; }

    public String toJson() {
        ObjectNode n = new ObjectMapper().createObjectNode();
        n.put("_class_name", "ToyWorldSegmenter");
        n.putArray("channels").addAll(Arrays.stream(channels).mapToObj(c -> n.numberNode(c)).toList());
        n.put("num_classes", numClasses).put("norm_groups", normGroups);
        try {
            return new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(n);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses the JSON written by {@link #toJson()} (or the "segmenter" object of a training config). */
    public static SegmenterConfig parse(JsonNode n, String source) {
        JsonNode ch = n.get("channels");
        if (ch == null || !ch.isArray()) throw new IllegalArgumentException(source + ": missing array 'channels'");
        int[] channels = new int[ch.size()];
        for (int i = 0; i < channels.length; i++) channels[i] = ch.get(i).asInt();
        if (!n.has("num_classes")) throw new IllegalArgumentException(source + ": missing 'num_classes'");
        return new SegmenterConfig(channels, n.get("num_classes").asInt(), n.path("norm_groups").asInt(8));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SegmenterConfig c && Arrays.equals(channels, c.channels) && numClasses == c.numClasses && normGroups == c.normGroups;
    }

    @Override
    public int hashCode() { return Arrays.hashCode(channels) * 31 + numClasses * 7 + normGroups; }

    @Override
    public int[] channels() { return channels.clone(); }
}
