package org.ldm4j.toyworld;

import java.util.ArrayList;
import java.util.List;

/**
 * ToyWorld: small procedural outdoor scenes with captions and exact condition maps, deterministic by seed.
 *
 * <p>A scene is planned from its seed ({@link SceneLayout}), painted back to front into a {@link Canvas}
 * (background, then objects far to near, so nearer objects occlude farther ones), and its maps are read off the
 * same buffers. Objects left mostly hidden behind nearer ones are removed and the scene painted again, so that
 * captions, object list and segmentation always agree.
 */
public final class ToyWorld {
    private ToyWorld() {}

    /** The scene of this seed at 64x64 with default options. */
    public static Scene sample(long seed) { return sample(seed, SceneOptions.defaults()); }

    /** The scene of this seed; the same seed and options always give the same scene. */
    public static Scene sample(long seed, SceneOptions options) {
        if (options == null) throw new IllegalArgumentException("SceneOptions must not be null");
        for (int attempt = 0; attempt < 1000; attempt++) {
            long planSeed = attempt == 0 ? seed : seed * 31 + attempt * 0x9E3779B97F4A7C15L;
            SceneLayout layout = new SceneLayout(planSeed, options);
            Canvas canvas = render(layout);
            if (!layout.objects.isEmpty()) return build(seed, layout, canvas);
        }
        throw new IllegalStateException("ToyWorld could not place a visible object for seed " + seed + " with " + options);
    }

    /** Paints until every remaining object is visible enough; may leave the object list empty. */
    private static Canvas render(SceneLayout layout) {
        int minPixels = Math.max(3, 5 * layout.width * layout.height / 4096);
        while (true) {
            Canvas canvas = new Canvas(layout.width, layout.height);
            Lighting light = new Lighting(layout);
            new BackgroundRenderer(layout, light, canvas).render();
            ObjectPainter[] painters = painters(layout, light, canvas);
            for (int i = 0; i < layout.objects.size(); i++) {
                SceneLayout.ObjectPlan p = layout.objects.get(i);
                painters[p.toyClass().ordinal() - ToyClass.HOUSE.ordinal()].paint(p, Canvas.FIRST_OBJECT + i);
            }
            int[] visible = new int[layout.objects.size()];
            for (int id : canvas.inst) if (id >= Canvas.FIRST_OBJECT) visible[id - Canvas.FIRST_OBJECT]++;
            List<SceneLayout.ObjectPlan> hidden = new ArrayList<>();
            for (int i = 0; i < visible.length; i++) {
                if (visible[i] < minPixels || visible[i] < 0.35f * canvas.written[i]) hidden.add(layout.objects.get(i));
            }
            if (hidden.isEmpty()) return canvas;
            layout.without(hidden);
        }
    }

    private static ObjectPainter[] painters(SceneLayout layout, Lighting light, Canvas canvas) {
        // Indexed by class ordinal - HOUSE: house, tree, boat, flowers, car, rock.
        return new ObjectPainter[]{new HousePainter(layout, light, canvas), new TreePainter(layout, light, canvas),
                new BoatPainter(layout, light, canvas), new FlowerPainter(layout, light, canvas),
                new CarPainter(layout, light, canvas), new RockPainter(layout, light, canvas)};
    }

    private static Scene build(long seed, SceneLayout layout, Canvas canvas) {
        int w = canvas.w, h = canvas.h, n = w * h;
        int[] seg = new int[n];
        int[] classCount = new int[ToyClass.count()];
        for (int i = 0; i < n; i++) {
            seg[i] = canvas.cls[i];
            classCount[seg[i]]++;
        }
        int k = layout.objects.size();
        int[] x0 = new int[k], y0 = new int[k], x1 = new int[k], y1 = new int[k], count = new int[k];
        java.util.Arrays.fill(x0, Integer.MAX_VALUE);
        java.util.Arrays.fill(y0, Integer.MAX_VALUE);
        boolean[] cloudSeen = new boolean[Canvas.MOUNTAIN - Canvas.CLOUD];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int id = canvas.inst[y * w + x];
                if (id >= Canvas.CLOUD && id < Canvas.MOUNTAIN) cloudSeen[id - Canvas.CLOUD] = true;
                if (id < Canvas.FIRST_OBJECT) continue;
                int j = id - Canvas.FIRST_OBJECT;
                x0[j] = Math.min(x0[j], x);
                y0[j] = Math.min(y0[j], y);
                x1[j] = Math.max(x1[j], x + 1);
                y1[j] = Math.max(y1[j], y + 1);
                count[j]++;
            }
        }
        List<SceneObject> objects = new ArrayList<>(k);
        for (int j = 0; j < k; j++) {
            SceneLayout.ObjectPlan p = layout.objects.get(j);
            objects.add(new SceneObject(p.toyClass(), Canvas.FIRST_OBJECT + j, p.attributes(),
                    new Box(x0[j], y0[j], x1[j], y1[j]), layout.groundDepth(p.baseY()), count[j]));
        }
        int clouds = 0;
        for (boolean c : cloudSeen) if (c) clouds++;
        WaterType water = classCount[ToyClass.WATER.ordinal()] > 0 ? layout.water : WaterType.NONE;
        Captioner.Setting setting = new Captioner.Setting(layout.time, layout.ground, water,
                classCount[ToyClass.MOUNTAIN.ordinal()] > 0, classCount[ToyClass.SUN.ordinal()] > 0,
                classCount[ToyClass.MOON.ordinal()] > 0, layout.crescent, clouds);
        List<String> captions = Captioner.captions(seed, setting, objects);
        boolean[] sketch = ConditionMaps.sketch(w, h, canvas.inst, canvas.part);
        float[] normals = ConditionMaps.normals(w, h, canvas.depth, canvas.inst);
        return new Scene(seed, w, h, layout.time, layout.ground, water, canvas.rgb, seg, canvas.inst, canvas.depth,
                sketch, normals, List.copyOf(captions), List.copyOf(objects));
    }
}
