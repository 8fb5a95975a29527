package org.ldm4j.studio;

import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;

/** Mouse gestures on the studio's zoomed canvas, addressed in canvas pixels (a {@code side} x {@code side} picture). */
record CanvasMouse(WebDriver browser, int side) {

    /** Drags the current tool from pixel (x0, y0) to (x1, y1). */
    void drag(WebElement canvas, int x0, int y0, int x1, int y1) {
        inView(canvas);
        int[] from = offset(canvas, x0, y0), to = offset(canvas, x1, y1);
        new Actions(browser).moveToElement(canvas, from[0], from[1]).clickAndHold()
                .moveByOffset(to[0] - from[0], to[1] - from[1]).release().perform();
    }

    void click(WebElement canvas, int x, int y) {
        inView(canvas);
        int[] at = offset(canvas, x, y);
        new Actions(browser).moveToElement(canvas, at[0], at[1]).click().perform();
    }

    /**
     * Scrolls the whole canvas into view: WebDriver measures pointer offsets from the centre of the element's
     * visible part, so a half-scrolled canvas (after typing into a field further down) would shift every stroke.
     */
    private void inView(WebElement canvas) {
        ((JavascriptExecutor) browser).executeScript("arguments[0].scrollIntoView({block: 'center', inline: 'center'})", canvas);
    }

    /** Where pixel (x, y)'s centre lies, from the element's centre (where Selenium's offsets start), in CSS px. */
    private int[] offset(WebElement canvas, int x, int y) {
        double zoom = canvas.getSize().getWidth() / (double) side;
        return new int[] {(int) Math.floor((x + 0.5) * zoom - canvas.getSize().getWidth() / 2.0),
                (int) Math.floor((y + 0.5) * zoom - canvas.getSize().getHeight() / 2.0)};
    }
}
