package org.ldm4j.models.vae;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * diffusers {@code AutoencoderKL} configuration, the {@code vae/config.json} of a diffusers folder. Components are the
 * JSON keys in camelCase; a missing key takes diffusers' default, an unknown key is ignored, and a value this engine
 * does not implement fails naming its key.
 *
 * @param shiftFactor null for SD 1.x/2.x; when set (SD3-style VAEs) {@link AutoencoderKL#encodeScaled} subtracts it
 *                    before scaling and {@link AutoencoderKL#decodeScaled} adds it back after unscaling
 * @param forceUpcast informational: diffusers runs such a VAE in fp32 even in half-precision pipelines
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonIgnoreProperties(ignoreUnknown = true)
public record AutoencoderKLConfig(
        Integer inChannels,
        Integer outChannels,
        List<String> downBlockTypes,
        List<String> upBlockTypes,
        List<Integer> blockOutChannels,
        Integer layersPerBlock,
        String actFn,
        Integer latentChannels,
        Integer normNumGroups,
        Integer sampleSize,
        Double scalingFactor,
        Double shiftFactor,
        Boolean forceUpcast,
        Boolean useQuantConv,
        Boolean usePostQuantConv,
        Boolean midBlockAddAttention) {

    public static final String DOWN_BLOCK = "DownEncoderBlock2D";
    public static final String UP_BLOCK = "UpDecoderBlock2D";

    /** Fills diffusers' defaults and rejects what the engine does not implement, naming the key. */
    public AutoencoderKLConfig {
        inChannels = inChannels != null ? inChannels : 3;
        outChannels = outChannels != null ? outChannels : 3;
        blockOutChannels = blockOutChannels != null ? List.copyOf(blockOutChannels) : List.of(64);
        int n = blockOutChannels.size();
        downBlockTypes = downBlockTypes != null ? List.copyOf(downBlockTypes) : List.of(DOWN_BLOCK);
        upBlockTypes = upBlockTypes != null ? List.copyOf(upBlockTypes) : List.of(UP_BLOCK);
        layersPerBlock = layersPerBlock != null ? layersPerBlock : 1;
        actFn = actFn != null ? actFn : "silu";
        latentChannels = latentChannels != null ? latentChannels : 4;
        normNumGroups = normNumGroups != null ? normNumGroups : 32;
        sampleSize = sampleSize != null ? sampleSize : 32;
        scalingFactor = scalingFactor != null ? scalingFactor : 0.18215;
        forceUpcast = forceUpcast != null ? forceUpcast : true;
        useQuantConv = useQuantConv != null ? useQuantConv : true;
        usePostQuantConv = usePostQuantConv != null ? usePostQuantConv : true;
        midBlockAddAttention = midBlockAddAttention != null ? midBlockAddAttention : true;

        if (n == 0) throw bad("block_out_channels", "must not be empty");
        for (String t : downBlockTypes) if (!DOWN_BLOCK.equals(t)) throw bad("down_block_types", "'" + t + "' is not supported (only " + DOWN_BLOCK + ")");
        for (String t : upBlockTypes) if (!UP_BLOCK.equals(t)) throw bad("up_block_types", "'" + t + "' is not supported (only " + UP_BLOCK + ")");
        if (downBlockTypes.size() != n) throw bad("down_block_types", "has " + downBlockTypes.size() + " entries but block_out_channels has " + n);
        if (upBlockTypes.size() != n) throw bad("up_block_types", "has " + upBlockTypes.size() + " entries but block_out_channels has " + n);
        String act = actFn.toLowerCase(Locale.ROOT);
        if (!act.equals("silu") && !act.equals("swish")) throw bad("act_fn", "'" + actFn + "' is not supported (only silu)");
        if (normNumGroups < 1) throw bad("norm_num_groups", "must be >= 1, got " + normNumGroups);   // before the % below
        for (int c : blockOutChannels) {
            if (c <= 0 || c % normNumGroups != 0) throw bad("block_out_channels", c + " is not a positive multiple of norm_num_groups " + normNumGroups);
        }
        if (layersPerBlock < 1) throw bad("layers_per_block", "must be >= 1, got " + layersPerBlock);
        if (latentChannels < 1) throw bad("latent_channels", "must be >= 1, got " + latentChannels);
        if (!(scalingFactor > 0)) throw bad("scaling_factor", "must be > 0, got " + scalingFactor);
    }

    private static IllegalArgumentException bad(String key, String why) {
        return new IllegalArgumentException("AutoencoderKL config: " + key + " " + why);
    }

    /** The SD 1.x VAE ({@code vae/config.json} of stable-diffusion-v1-5). */
    public static AutoencoderKLConfig sd1() {
        return new AutoencoderKLConfig(3, 3, List.of(DOWN_BLOCK, DOWN_BLOCK, DOWN_BLOCK, DOWN_BLOCK),
                List.of(UP_BLOCK, UP_BLOCK, UP_BLOCK, UP_BLOCK), List.of(128, 256, 512, 512), 2, "silu", 4, 32, 512,
                0.18215, null, true, true, true, true);
    }

    /** Ratio of image to latent side: 2^(number of blocks - 1), 8 for SD. */
    public int downscaleFactor() { return 1 << (blockOutChannels.size() - 1); }

    /** The shift factor, 0 when absent. */
    public double shift() { return shiftFactor != null ? shiftFactor : 0.0; }

    public static AutoencoderKLConfig parse(String json) { return parse(json, "AutoencoderKL config"); }

    /** Parses a config; {@code source} (its file) names it in the one-line error. */
    public static AutoencoderKLConfig parse(String json, String source) {
        return org.ldm4j.models.DiffusersConfigJson.readRecord(JSON, json, AutoencoderKLConfig.class, source);
    }

    /** The keys of {@code json} this config does not read (ignored on load, with a warning naming them). */
    public static List<String> unreadKeys(String json) {
        return org.ldm4j.models.DiffusersConfigJson.unreadKeys(JSON, json, AutoencoderKLConfig.class);
    }

    public static AutoencoderKLConfig load(Path file) {
        String json;
        try {
            json = Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read AutoencoderKL config: " + e.getMessage(), e);
        }
        AutoencoderKLConfig c = parse(json, file.toString());
        org.ldm4j.models.DiffusersConfigJson.warnUnreadKeys(JSON, json, AutoencoderKLConfig.class, file.toString());
        return c;
    }

    /** One mapper per class: building one and its deserializers costs far more than a parse (thread-safe once set up). */
    private static final ObjectMapper JSON = org.ldm4j.models.DiffusersConfigJson.configMapper();
}
