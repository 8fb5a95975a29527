package org.ldm4j.studio;

import com.fasterxml.jackson.databind.JsonNode;
import org.ldm4j.methods.fgdm.ClassMap;
import org.ldm4j.methods.fgdm.MapEdits;
import org.ldm4j.methods.fgdm.Palette;
import org.ldm4j.methods.fgdm.Region;
import org.ldm4j.methods.fgdm.SegmentationMaps;
import org.ldm4j.methods.fgdm.Shapes;
import org.ldm4j.toyworld.EditMasks;
import org.ldm4j.toyworld.ToyClass;

import java.awt.image.BufferedImage;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The studio's map editor on the FG-DM editor's operations ({@link MapEdits}, as {@code ldm4j fgdm edit}): a
 * segmentation map sent as a PNG in the palette's colours is read into classes, edited by a list of JSON operations
 * and drawn back in exact palette colours. Every operation names its object by a pixel (x, y) of it: the region is the
 * 8-connected area of that pixel's class ({@link Region#at}).
 *
 * <pre>
 * {"op": "move",   "x", "y", "dx", "dy", "keepOld"?: false}
 * {"op": "resize", "x", "y", "scale"}                         (0 &lt; scale &lt;= 8, about the centroid)
 * {"op": "flip",   "x", "y", "axis"?: "horizontal"|"vertical"}
 * {"op": "delete", "x", "y"}                                  ("remove" too; the hole is filled from around it)
 * {"op": "add",    "class", "x", "y", "w"?, "h"?, "shape"?: "ellipse"|"rect"|"object"}   (centred at x, y; default a quarter of the sides)
 * </pre>
 * "object" paints ToyWorld's generator's outline of an object class ({@link EditMasks#silhouette}) scaled to w x h.
 * Bad operations are {@link ApiError}s naming the operation's index and the problem.
 */
final class SegmentationEdits {
    static final int MAX_EDITS = 32;
    /** Edits fill holes ring by ring (quadratic in the side): maps are condition maps, small; 256 is 4x ToyWorld's image. */
    static final int MAX_MAP_SIDE = 256;
    static final double MAX_SCALE = 8;
    private static final Map<String, Set<String>> KEYS = Map.of(
            "move", Set.of("op", "x", "y", "dx", "dy", "keepOld"),
            "resize", Set.of("op", "x", "y", "scale"),
            "flip", Set.of("op", "x", "y", "axis"),
            "delete", Set.of("op", "x", "y"),
            "remove", Set.of("op", "x", "y"),
            "add", Set.of("op", "class", "x", "y", "w", "h", "shape"));

    private SegmentationEdits() {}

    /** Reads a segmentation map PNG data URL; a map with no palette colour at all is refused (not a segmentation map). */
    static ClassMap read(String dataUrl, String field, Palette palette, int maxSide) {
        BufferedImage image = DataUrls.decodePng(dataUrl, field, Math.min(maxSide, MAX_MAP_SIDE));
        ClassMap map = SegmentationMaps.decode(image, palette, FactorGraphModel.TOLERANCE);
        if (map.area(ClassMap.UNLABELED) == map.labels().length) {
            throw ApiError.badRequest(field + " has no colour of the segmentation palette (tolerance " + FactorGraphModel.TOLERANCE
                    + "): is it a segmentation map drawn in the classes' colours?");
        }
        return map;
    }

    /** Applies the operations in order; {@code edits} may be null (no edit). */
    static ClassMap apply(ClassMap map, JsonNode edits, Palette palette) {
        if (edits == null || edits.isNull()) return map;
        if (!edits.isArray()) throw ApiError.badRequest("edits must be a list of operations");
        if (edits.size() > MAX_EDITS) throw ApiError.badRequest("at most " + MAX_EDITS + " edits per request, got " + edits.size());
        for (int i = 0; i < edits.size(); i++) {
            String where = "edits[" + i + "]";
            try {
                map = applyOne(map, edits.get(i), palette, where);
            } catch (IllegalArgumentException e) {
                throw ApiError.badRequest(where + ": " + e.getMessage());
            }
        }
        return map;
    }

    private static ClassMap applyOne(ClassMap map, JsonNode edit, Palette palette, String where) {
        if (edit == null || !edit.isObject()) throw ApiError.badRequest(where + " must be an object with an \"op\"");
        JsonNode opNode = edit.get("op");
        if (opNode == null || !opNode.isTextual()) throw ApiError.badRequest(where + ".op is missing (one of " + new TreeSet<>(KEYS.keySet()) + ")");
        String op = opNode.textValue().toLowerCase(Locale.ROOT);
        Set<String> keys = KEYS.get(op);
        if (keys == null) throw ApiError.badRequest(where + ": unknown op '" + opNode.textValue() + "' (one of " + new TreeSet<>(KEYS.keySet()) + ")");
        Set<String> unknown = new TreeSet<>();
        for (Iterator<String> it = edit.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!keys.contains(k)) unknown.add(k);
        }
        if (!unknown.isEmpty()) throw ApiError.badRequest(where + ": unknown field(s) " + unknown + " for op '" + op + "' (known: " + new TreeSet<>(keys) + ")");
        int x = integer(edit, "x", where), y = integer(edit, "y", where);
        if (op.equals("add")) {
            JsonNode cls = edit.get("class");
            if (cls == null || !cls.isTextual()) throw ApiError.badRequest(where + ": add needs \"class\" (" + String.join(", ", palette.names()) + ")");
            int classId = palette.classOf(cls.textValue());   // unknown names: IllegalArgumentException listing the classes
            return MapEdits.add(map, shape(map, edit, x, y, where, palette.name(classId)), classId);
        }
        Region region = Region.at(map, x, y);
        return switch (op) {
            case "move" -> MapEdits.move(map, region, integer(edit, "dx", where), integer(edit, "dy", where),
                    !(edit.has("keepOld") && bool(edit, "keepOld", where)));
            case "resize" -> {
                JsonNode s = edit.get("scale");
                if (s == null || !s.isNumber()) throw ApiError.badRequest(where + ": resize needs a number \"scale\"");
                double scale = s.doubleValue();
                if (!(scale > 0 && scale <= MAX_SCALE)) throw ApiError.badRequest(where + ": scale must be in (0, " + (int) MAX_SCALE + "], got " + scale);
                yield MapEdits.resize(map, region, scale);
            }
            case "flip" -> MapEdits.flip(map, region, axis(edit, where));
            default -> MapEdits.remove(map, region);
        };
    }

    private static boolean[] shape(ClassMap map, JsonNode edit, int x, int y, String where, String className) {
        int w = edit.has("w") ? integer(edit, "w", where) : Math.max(1, map.width() / 4);
        int h = edit.has("h") ? integer(edit, "h", where) : Math.max(1, map.height() / 4);
        if (w < 1 || h < 1) throw ApiError.badRequest(where + ": w and h must be positive, got " + w + "x" + h);
        String shape = edit.has("shape") ? text(edit, "shape", where).toLowerCase(Locale.ROOT) : "ellipse";
        boolean[] mask = switch (shape) {
            case "rect" -> Shapes.rectangle(map.width(), map.height(), x - w / 2, y - h / 2, x - w / 2 + w - 1, y - h / 2 + h - 1);
            case "ellipse" -> Shapes.ellipse(map.width(), map.height(), x + 0.5, y + 0.5, w / 2.0, h / 2.0);
            case "object" -> {
                ToyClass toyClass = ToyClass.objects().stream().filter(c -> c.label().equals(className)).findFirst()
                        .orElseThrow(() -> ApiError.badRequest(where + ": shape object needs a ToyWorld object class ("
                                + String.join(", ", ToyClass.objectLabels()) + "), got '" + className + "'"));
                yield EditMasks.silhouette(toyClass, 0).placed(map.width(), map.height(), x - w / 2, y - h / 2, w, h).bits();
            }
            default -> throw ApiError.badRequest(where + ": shape must be ellipse, rect or object, got '" + shape + "'");
        };
        for (boolean b : mask) if (b) return mask;
        throw ApiError.badRequest(where + ": the " + shape + " at (" + x + ", " + y + ") lies outside the " + map.width() + "x" + map.height() + " map");
    }

    private static MapEdits.Axis axis(JsonNode edit, String where) {
        String a = edit.has("axis") ? text(edit, "axis", where).toLowerCase(Locale.ROOT) : "horizontal";
        return switch (a) {
            case "horizontal" -> MapEdits.Axis.HORIZONTAL;
            case "vertical" -> MapEdits.Axis.VERTICAL;
            default -> throw ApiError.badRequest(where + ": axis must be horizontal or vertical, got '" + a + "'");
        };
    }

    private static int integer(JsonNode edit, String key, String where) {
        JsonNode n = edit.get(key);
        if (n == null || !n.isIntegralNumber() || !n.canConvertToInt()) throw ApiError.badRequest(where + "." + key + " must be an integer");
        return n.intValue();
    }

    private static boolean bool(JsonNode edit, String key, String where) {
        JsonNode n = edit.get(key);
        if (!n.isBoolean()) throw ApiError.badRequest(where + "." + key + " must be true or false");
        return n.booleanValue();
    }

    private static String text(JsonNode edit, String key, String where) {
        JsonNode n = edit.get(key);
        if (!n.isTextual()) throw ApiError.badRequest(where + "." + key + " must be a string");
        return n.textValue();
    }

    /** The map in the palette's exact colours, as a PNG data URL. */
    static String png(ClassMap map, Palette palette) {
        return DataUrls.png(FactorGraphMode.png(map.toImage(palette)));
    }

    /** Pixels per class name, unlabeled included when present. */
    static Map<String, Integer> areas(ClassMap map, Palette palette) {
        Map<String, Integer> out = new LinkedHashMap<>();
        map.areas().forEach((cls, area) -> out.put(palette.name(cls), area));
        return out;
    }

    /** The region at (x, y) for the page to outline: class, area, box, centroid and its mask (white on transparent). */
    static Map<String, Object> describe(ClassMap map, int x, int y, Palette palette) {
        Region r;
        try {
            r = Region.at(map, x, y);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest("select: " + e.getMessage());
        }
        BufferedImage mask = new BufferedImage(map.width(), map.height(), BufferedImage.TYPE_INT_ARGB);
        for (int py = 0; py < map.height(); py++) for (int px = 0; px < map.width(); px++) if (r.contains(px, py)) mask.setRGB(px, py, 0xFFFFFFFF);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("class", palette.name(r.classId()));
        m.put("area", r.area());
        m.put("box", List.of(r.minX(), r.minY(), r.maxX(), r.maxY()));
        m.put("centroid", List.of(r.centroidX(), r.centroidY()));
        m.put("mask", DataUrls.png(FactorGraphMode.png(mask)));
        return m;
    }
}
