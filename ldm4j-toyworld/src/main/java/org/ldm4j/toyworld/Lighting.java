package org.ldm4j.toyworld;

/**
 * Light of a scene: one directional light (sun or moon side) plus a tinted ambient term, Lambertian shading with
 * normals in view space (x right, y up, z towards the viewer), and aerial perspective that fades far surfaces
 * towards the horizon colour.
 */
final class Lighting {
    final TimeOfDay time;
    final float lx, ly, lz;
    final float lightR, lightG, lightB;
    final float ambR, ambG, ambB;
    final int horizonColour;
    final float hazeStrength;

    Lighting(SceneLayout layout) {
        this.time = layout.time;
        float x = layout.lightSide * 0.65f, y = 0.55f, z = 0.55f;
        if (time == TimeOfDay.SUNSET) { y = 0.25f; x = layout.lightSide * 0.8f; }
        float len = (float) Math.sqrt(x * x + y * y + z * z);
        lx = x / len; ly = y / len; lz = z / len;
        switch (time) {
            case DAY -> { lightR = 0.75f; lightG = 0.72f; lightB = 0.66f; ambR = 0.42f; ambG = 0.45f; ambB = 0.52f; hazeStrength = 0.35f; }
            case SUNSET -> { lightR = 0.85f; lightG = 0.55f; lightB = 0.35f; ambR = 0.36f; ambG = 0.3f; ambB = 0.42f; hazeStrength = 0.4f; }
            default -> { lightR = 0.22f; lightG = 0.26f; lightB = 0.38f; ambR = 0.12f; ambG = 0.14f; ambB = 0.24f; hazeStrength = 0.3f; }
        }
        horizonColour = skyColour(1f);
    }

    /** Sky gradient at relative height t: 0 = top of the image, 1 = horizon. */
    int skyColour(float t) {
        t = Math.max(0, Math.min(1, t));
        return switch (time) {
            case DAY -> Rgb.pack(0.24f + 0.46f * t, 0.46f + 0.36f * t, 0.86f + 0.10f * t);
            case SUNSET -> t < 0.55f
                    ? Rgb.mix(Rgb.of(52, 48, 118), Rgb.of(215, 105, 95), t / 0.55f)
                    : Rgb.mix(Rgb.of(215, 105, 95), Rgb.of(255, 190, 95), (t - 0.55f) / 0.45f);
            default -> Rgb.pack(0.01f + 0.07f * t, 0.02f + 0.09f * t, 0.09f + 0.18f * t);
        };
    }

    /** Lambertian shading of an albedo under this light for a unit normal. */
    int shade(int albedo, float nx, float ny, float nz) {
        float d = Math.max(0, nx * lx + ny * ly + nz * lz);
        return Rgb.pack(Rgb.r(albedo) * (ambR + lightR * d), Rgb.g(albedo) * (ambG + lightG * d), Rgb.b(albedo) * (ambB + lightB * d));
    }

    /** Shading with a flat extra brightness factor (texture, ambient occlusion). */
    int shade(int albedo, float nx, float ny, float nz, float k) {
        float d = Math.max(0, nx * lx + ny * ly + nz * lz);
        return Rgb.pack(Rgb.r(albedo) * (ambR + lightR * d) * k, Rgb.g(albedo) * (ambG + lightG * d) * k, Rgb.b(albedo) * (ambB + lightB * d) * k);
    }

    /** Aerial perspective: far (low nearness) surfaces lose contrast towards the horizon colour. */
    int haze(int colour, float nearness) {
        float t = hazeStrength * Math.max(0, 1 - nearness) * Math.max(0, 1 - nearness);
        return t <= 0 ? colour : Rgb.mix(colour, horizonColour, t);
    }
}
