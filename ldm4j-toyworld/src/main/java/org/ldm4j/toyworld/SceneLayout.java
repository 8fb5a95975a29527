package org.ldm4j.toyworld;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Every random decision of one scene, drawn from its seed before anything is drawn: time of day, horizon, sky
 * elements, mountains, water and the planned objects. Rendering is a pure function of this plan, so an object that
 * ends up hidden can be removed and the scene re-rendered without changing anything else.
 */
final class SceneLayout {
    record Cloud(float cx, float cy, float[] puffX, float[] puffY, float[] puffR, float bottom) {}

    record MountainLayer(float[] peakX, float[] peakH, float[] slopeLeft, float[] slopeRight, float depth, float haze, int seed) {}

    /** One object to draw; x is the centre of its base, baseY the row it stands on, scale pixels per unit. */
    record ObjectPlan(ToyClass toyClass, float x, float baseY, float scale, Map<String, String> attributes,
                      int colour, int colour2, int variant, boolean flip, int seed) {}

    static final String[] HOUSE_WALLS = {"white", "red", "yellow", "blue", "brown"};
    static final String[] ROOFS = {"red", "grey", "brown", "blue"};
    static final String[] CAR_COLOURS = {"red", "blue", "yellow", "white", "black", "green"};
    static final String[] BOAT_COLOURS = {"red", "white", "blue", "yellow"};
    static final String[] FLOWER_COLOURS = {"red", "yellow", "pink", "purple", "white", "blue"};
    static final String[] ROCK_COLOURS = {"grey", "brown"};
    static final String[] SPECIES = {"pine", "oak", "palm", "birch"};
    static final String[] CROWN_COLOURS = {"green", "orange", "yellow"};

    static final Map<String, Integer> COLOURS = Map.ofEntries(
            Map.entry("white", Rgb.of(236, 232, 222)), Map.entry("red", Rgb.of(190, 52, 42)),
            Map.entry("yellow", Rgb.of(238, 200, 70)), Map.entry("blue", Rgb.of(62, 100, 190)),
            Map.entry("brown", Rgb.of(130, 88, 56)), Map.entry("grey", Rgb.of(128, 128, 132)),
            Map.entry("black", Rgb.of(40, 40, 46)), Map.entry("green", Rgb.of(60, 140, 60)),
            Map.entry("pink", Rgb.of(240, 130, 180)), Map.entry("purple", Rgb.of(140, 70, 180)),
            Map.entry("orange", Rgb.of(220, 120, 40)));

    final long seed;
    final int width, height;
    final TimeOfDay time;
    final GroundType ground;
    final WaterType water;
    final float horizon;
    /** -1 when the light comes from the left, +1 from the right. */
    final float lightSide;
    final boolean hasSunOrMoon;
    final float sunX, sunY, sunR;
    final boolean crescent;
    final List<Cloud> clouds = new ArrayList<>();
    final List<MountainLayer> mountains = new ArrayList<>();
    final float lakeCx, lakeCy, lakeRx, lakeRy;
    final float seaShore, seaAmp, seaFreq, seaPhase;
    final int textureSeed;
    final List<ObjectPlan> objects = new ArrayList<>();

    SceneLayout(long seed, SceneOptions o) {
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L);
        this.seed = seed;
        this.width = o.width();
        this.height = o.height();
        float u = height / 64f;
        this.textureSeed = r.nextInt();
        double tp = r.nextDouble();
        this.time = o.time() != null ? o.time() : tp < 0.5 ? TimeOfDay.DAY : tp < 0.75 ? TimeOfDay.SUNSET : TimeOfDay.NIGHT;
        double wp = r.nextDouble();
        this.water = o.water() != null ? o.water() : wp < 0.4 ? WaterType.NONE : wp < 0.7 ? WaterType.LAKE : WaterType.SEA;
        double gp = r.nextDouble();
        GroundType g = gp < 0.5 ? GroundType.GRASS : gp < 0.75 ? GroundType.SAND : GroundType.SNOW;
        if (water == WaterType.SEA && gp < 0.8) g = GroundType.SAND;   // beaches are the common seaside
        this.ground = o.ground() != null ? o.ground() : g;
        this.horizon = height * (0.36f + 0.16f * r.nextFloat());
        this.lightSide = r.nextBoolean() ? -1 : 1;

        // Sun or moon on the light's side.
        this.hasSunOrMoon = r.nextDouble() < (time == TimeOfDay.DAY ? 0.7 : 0.85);
        this.sunR = u * (time == TimeOfDay.SUNSET ? 6.5f : 4.5f) * (0.85f + 0.3f * r.nextFloat());
        this.sunX = width * (0.5f + lightSide * (0.12f + 0.3f * r.nextFloat()));
        this.sunY = time == TimeOfDay.SUNSET ? horizon - sunR * (0.2f + 1.2f * r.nextFloat())
                : sunR + 2 * u + (horizon * 0.45f - sunR) * r.nextFloat();
        this.crescent = time == TimeOfDay.NIGHT && r.nextBoolean();

        int cloudCount = time == TimeOfDay.NIGHT ? r.nextInt(2) : r.nextInt(4);
        for (int i = 0; i < cloudCount; i++) {
            float cx = width * r.nextFloat();
            float cy = horizon * (0.15f + 0.45f * r.nextFloat());
            int puffs = 3 + r.nextInt(3);
            float size = u * (2.5f + 2.5f * r.nextFloat());
            float[] px = new float[puffs], py = new float[puffs], pr = new float[puffs];
            for (int k = 0; k < puffs; k++) {
                float along = (k - (puffs - 1) / 2f) * size * 1.1f;
                float bulge = 1 - Math.abs(k - (puffs - 1) / 2f) / puffs;
                pr[k] = size * (0.7f + 0.5f * bulge + 0.2f * r.nextFloat());
                px[k] = cx + along;
                py[k] = cy - pr[k] * 0.35f;
            }
            clouds.add(new Cloud(cx, cy, px, py, pr, cy + size * 0.45f));
        }

        if (r.nextDouble() < 0.65) {
            int layers = 1 + r.nextInt(2);
            for (int l = 0; l < layers; l++) {
                int peaks = 2 + r.nextInt(3);
                float[] x = new float[peaks], h = new float[peaks], sl = new float[peaks], sr = new float[peaks];
                float maxH = horizon * (l == 0 && layers == 2 ? 0.65f : 0.45f);
                for (int k = 0; k < peaks; k++) {
                    x[k] = width * (-0.1f + 1.2f * (k + r.nextFloat()) / peaks);
                    h[k] = maxH * (0.45f + 0.55f * r.nextFloat());
                    sl[k] = 0.5f + 0.9f * r.nextFloat();
                    sr[k] = 0.5f + 0.9f * r.nextFloat();
                }
                boolean far = layers == 2 && l == 0;
                mountains.add(new MountainLayer(x, h, sl, sr, far ? 0.04f : 0.08f, far ? 0.45f : 0.15f, r.nextInt()));
            }
        }

        this.lakeCx = width * (0.25f + 0.5f * r.nextFloat());
        this.lakeCy = horizon + (height - horizon) * (0.3f + 0.25f * r.nextFloat());
        this.lakeRx = width * (0.22f + 0.2f * r.nextFloat());
        this.lakeRy = (lakeCy - horizon) * (0.45f + 0.25f * r.nextFloat());
        this.seaShore = horizon + (height - horizon) * (0.25f + 0.25f * r.nextFloat());
        this.seaAmp = u * (0.5f + 1.5f * r.nextFloat());
        this.seaFreq = (float) (2 * Math.PI / (width * (0.4f + 0.6f * r.nextFloat())));
        this.seaPhase = (float) (2 * Math.PI * r.nextFloat());

        this.shore = new float[width];
        for (int x = 0; x < width; x++) shore[x] = seaShore + seaAmp * (float) Math.sin((x + 0.5f) * seaFreq + seaPhase);
        planObjects(r, o, u);
    }

    /** Sea shore row per pixel column (at the column centre), precomputed: the renderer asks per pixel. */
    private final float[] shore;

    /** Water test for a pixel column (centre x + 0.5) and any row coordinate. */
    boolean isWaterColumn(int x, float y) {
        return switch (water) {
            case SEA -> y >= horizon && y < shore[x];
            case LAKE -> isWater(x + 0.5f, y);
            default -> false;
        };
    }

    boolean isWater(float x, float y) {
        switch (water) {
            case SEA: return y >= horizon && y < seaShore + seaAmp * (float) Math.sin(x * seaFreq + seaPhase);
            case LAKE: {
                float dx = (x - lakeCx) / lakeRx, dy = (y - lakeCy) / lakeRy;
                return dx * dx + dy * dy <= 1;
            }
            default: return false;
        }
    }

    boolean isGround(float x, float y) { return y >= horizon && !isWater(x, y); }

    /** Perspective size factor: 0.45 at the horizon, 1.2 at the bottom row. */
    float perspective(float baseY) {
        float t = (baseY - horizon) / (height - horizon);
        return 0.45f + 0.75f * Math.max(0, Math.min(1, t));
    }

    /** Nearness (depth map value) of the ground plane at a row: ~0.12 at the horizon, 1 at the bottom. */
    float groundDepth(float y) {
        float t = (y - horizon) / (height - horizon);
        return 0.12f + 0.88f * Math.max(0, Math.min(1, t));
    }

    private void planObjects(SplittableRandom r, SceneOptions o, float u) {
        int n = o.minObjects() + r.nextInt(o.maxObjects() - o.minObjects() + 1);
        for (int i = 0; i < n; i++) {
            ToyClass c = pickClass(r);
            ObjectPlan p = null;
            for (int attempt = 0; attempt < 30 && p == null; attempt++) p = tryPlace(r, c, u);
            if (p != null) objects.add(p);
        }
        if (objects.isEmpty()) {
            // Always at least one object: a rock fits on any land strip.
            for (int attempt = 0; attempt < 200 && objects.isEmpty(); attempt++) {
                ObjectPlan p = tryPlace(r, ToyClass.ROCK, u);
                if (p != null) objects.add(p);
            }
        }
        // Painter's order: far (small baseY) first. Boats and flowers lie flat, sort them by base as well.
        objects.sort((a, b) -> Float.compare(a.baseY(), b.baseY()));
    }

    private ToyClass pickClass(SplittableRandom r) {
        while (true) {
            int k = r.nextInt(6);
            ToyClass c = ToyClass.objects().get(k);
            if (c == ToyClass.BOAT && water == WaterType.NONE) continue;
            if (c == ToyClass.FLOWERS && ground != GroundType.GRASS && r.nextBoolean()) continue;
            return c;
        }
    }

    private ObjectPlan tryPlace(SplittableRandom r, ToyClass c, float u) {
        float baseY = horizon + 2 + (height - horizon - 2) * (float) Math.sqrt(r.nextFloat());
        if (baseY > height - 1) baseY = height - 1;
        float size = 0.75f + 0.55f * r.nextFloat();
        float scale = Math.max(0.3f, u * perspective(baseY) * size);   // tiny images still get drawable objects
        float halfWidth = halfWidth(c, scale);
        float x = halfWidth * 0.5f + (width - halfWidth) * r.nextFloat();
        boolean needWater = c == ToyClass.BOAT;
        for (float dx : new float[]{-halfWidth * 0.8f, 0, halfWidth * 0.8f}) {
            // The footprint (base row and the ground just behind it) must be land, or water for boats.
            for (float dy : new float[]{0, -1, -3 * scale}) {
                boolean ok = needWater ? isWater(x + dx, baseY + dy) : isGround(x + dx, baseY + dy);
                if (!ok) return null;
            }
        }
        for (ObjectPlan other : objects) {   // overlap is fine (occlusion), piling onto one spot is not
            float apart = (halfWidth + halfWidth(other.toyClass(), other.scale())) * 0.6f;
            if (Math.abs(other.x() - x) < apart && Math.abs(other.baseY() - baseY) < 6 * u) return null;
        }
        Map<String, String> a = new LinkedHashMap<>();
        String sizeWord = size < 0.87f ? "small" : size > 1.18f ? (c == ToyClass.TREE ? "tall" : "big") : null;
        int colour, colour2 = 0, variant = 0;
        switch (c) {
            case HOUSE -> {
                String wall = pick(r, HOUSE_WALLS);
                String roof = pick(r, ROOFS);
                while (roof.equals(wall)) roof = pick(r, ROOFS);
                a.put("colour", wall);
                a.put("roof", roof);
                colour = COLOURS.get(wall);
                colour2 = COLOURS.get(roof);
            }
            case TREE -> {
                String species = switch (ground) {
                    case SNOW -> r.nextDouble() < 0.7 ? "pine" : "birch";
                    case SAND -> r.nextDouble() < 0.7 ? "palm" : "pine";
                    default -> r.nextDouble() < 0.1 ? "palm" : pick(r, new String[]{"pine", "oak", "oak", "birch"});
                };
                String crown = species.equals("oak") || species.equals("birch") ? (r.nextDouble() < 0.65 ? "green" : pick(r, CROWN_COLOURS)) : "green";
                a.put("species", species);
                a.put("colour", crown);
                variant = switch (species) { case "pine" -> 0; case "oak" -> 1; case "palm" -> 2; default -> 3; };
                colour = switch (crown) {
                    case "orange" -> Rgb.of(205, 110, 40);
                    case "yellow" -> Rgb.of(215, 185, 60);
                    default -> variant == 0 ? Rgb.of(40, 100, 55) : Rgb.of(70, 135, 50);
                };
            }
            case BOAT -> {
                String hull = pick(r, BOAT_COLOURS);
                a.put("colour", hull);
                colour = COLOURS.get(hull);
                variant = r.nextBoolean() ? 1 : 0;   // 1 = sail
                if (variant == 1) a.put("sail", "white");
            }
            case FLOWERS -> {
                String f = pick(r, FLOWER_COLOURS);
                a.put("colour", f);
                colour = COLOURS.get(f);
            }
            case CAR -> {
                String col = pick(r, CAR_COLOURS);
                a.put("colour", col);
                colour = COLOURS.get(col);
            }
            default -> {
                String col = ground == GroundType.SAND && r.nextBoolean() ? "brown" : pick(r, ROCK_COLOURS);
                a.put("colour", col);
                colour = col.equals("brown") ? Rgb.of(135, 105, 80) : Rgb.of(125, 125, 128);
            }
        }
        if (sizeWord != null && c != ToyClass.FLOWERS) a.put("size", sizeWord);
        return new ObjectPlan(c, x, baseY, scale, Map.copyOf(a), colour, colour2, variant, r.nextBoolean(), r.nextInt());
    }

    private static float halfWidth(ToyClass c, float scale) {
        return scale * switch (c) {
            case HOUSE -> 10f; case TREE -> 5f; case BOAT -> 7f; case FLOWERS -> 7f; case CAR -> 6.5f; default -> 4f;
        };
    }

    private static String pick(SplittableRandom r, String[] options) { return options[r.nextInt(options.length)]; }

    /** The same plan without the given objects (ones that ended up hidden). */
    SceneLayout without(List<ObjectPlan> hidden) {
        objects.removeAll(hidden);
        return this;
    }
}
