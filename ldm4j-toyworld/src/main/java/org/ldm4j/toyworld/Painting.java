package org.ldm4j.toyworld;

import java.awt.image.BufferedImage;

/**
 * A simulated user painting: flat colour regions; unpainted pixels are white and marked false in {@code painted}.
 *
 * @param rgb       packed 0xRRGGBB
 * @param painted   true where a stroke covers the pixel
 * @param regionOf  the scene instance id whose colour the pixel was painted with, 0 where unpainted
 */
public record Painting(int width, int height, int[] rgb, boolean[] painted, int[] regionOf) {
    public BufferedImage image() { return SceneImages.rgb(width, height, rgb); }
}
