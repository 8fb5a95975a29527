package org.ldm4j.studio;

import com.fasterxml.jackson.databind.JsonNode;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.image.PngParameters;
import org.ldm4j.toyworld.Painting;
import org.ldm4j.toyworld.PaintingOptions;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.toyworld.ToyWorld;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.WebDriverWait;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The page in a real browser (Debian's chromium + chromedriver, headless) on the embedded ToyWorld model
 * ({@code models/toyworld-ldm8}, 64x64): paint a stroke painting by hand and run img2img on it, watch progress and
 * previews, find the result in the gallery, download it and read its embedded parameters; draw over a ToyWorld
 * painting and run GradOP+ with a region phrase; paint a mask over a ToyWorld picture and run an edit. The results
 * must look like ToyWorld (sky over grass, background kept), which the tiny random model could not show. The
 * screenshots of each mode land in target/ (copied by hand into docs/). Few steps keep the class well under a minute.
 * Without chromium this FAILS (CI installs it): a skipped browser test would hide a broken page.
 */
class StudioBrowserTest {
    static final int SIZE = 64;
    static final long ALL = SIZE * SIZE;
    static final int JOB_SECONDS = 180;   // generous: the build machine may be busy
    static final String SKY = "#82aae8", GRASS = "#508845", HOUSE = "#b04040";
    /** "a blue house on the grass under a clear blue sky": grass to the left of the house is free to paint on. */
    static final Scene SCENE = ToyWorld.sample(2001004);
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    @TempDir static Path dir;
    static StudioFixture studio;
    static ChromeDriver browser;
    static Path downloads;
    static CanvasMouse mouse;

    @BeforeAll
    static void start() throws Exception {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            fail("the browser test needs " + CHROMIUM + " and " + CHROMEDRIVER
                    + ": install them with `apt-get install -y chromium chromium-driver` (.ci/run does)");
        }
        torch.set_num_threads(1);
        studio = new StudioFixture(StudioServer.start(StudioFixture.config(StudioFixture.toyWorldModel(), dir.resolve("gallery"),
                StudioFixture.testLimits())));
        downloads = Files.createDirectories(dir.resolve("downloads"));
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--user-data-dir=" + Files.createDirectories(dir.resolve("profile")), "--window-size=1200,860");
        options.setExperimentalOption("prefs", Map.of("download.default_directory", downloads.toString(),
                "download.prompt_for_download", false));
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).build();
        browser = new ChromeDriver(service, options);
        mouse = new CanvasMouse(browser, SIZE);
    }

    @AfterAll
    static void stop() {
        if (browser != null) browser.quit();
        if (studio != null) studio.close();
    }

    Object js(String script, Object... args) {
        return ((JavascriptExecutor) browser).executeScript(script, args);
    }

    WebDriverWait waiting(int seconds) {
        return new WebDriverWait(browser, Duration.ofSeconds(seconds));
    }

    long paintedPixels() {
        return (Long) js("const l = window.studio.painting.layer; let n = 0; for (let i = 3; i < l.length; i += 4) if (l[i]) n++; return n;");
    }

    @Test
    void drawRunImg2imgAndDownloadTheResult() throws Exception {
        openPage();
        String status = browser.findElement(By.id("model-status")).getText();
        assertTrue(status.contains("toyworld") && status.contains(SIZE + "×" + SIZE), status);
        assertEquals((long) SIZE, js("return window.studio.painting.width"), "the canvas takes the model's size");
        WebElement canvas = browser.findElement(By.id("canvas"));
        assertTrue(canvas.getSize().getWidth() >= SIZE * 4, "a 64x64 canvas is shown zoomed: " + canvas.getSize().getWidth() + " px");

        // a ToyWorld-like stroke painting by hand: a grass-green horizon from edge to edge splits the empty canvas
        js("document.getElementById('size').value = 4; document.getElementById('colour').value = arguments[0]", GRASS);
        mouse.drag(canvas, 0, 28, SIZE - 1, 28);
        long afterStroke = paintedPixels();
        assertTrue(afterStroke >= SIZE * 3, "the stroke painted pixels: " + afterStroke);
        assertEquals(GRASS, js("return window.studio.painting.palette(4)[0]"), "the palette shows the colour in use");
        assertEquals(1L, js("return document.querySelectorAll('#palette button').length"));

        // a filled rectangle: the red house, standing on the horizon
        browser.findElement(By.cssSelector("[data-tool=rect]")).click();
        js("document.getElementById('filled').checked = true; document.getElementById('colour').value = arguments[0]", HOUSE);
        mouse.drag(canvas, 14, 22, 26, 34);
        long withHouse = paintedPixels();
        assertTrue(withHouse > afterStroke, "rectangle added pixels");

        // the bucket fills the sky above the horizon (and only there), then the ground below; undo takes a fill back
        browser.findElement(By.cssSelector("[data-tool=fill]")).click();
        js("document.getElementById('colour').value = arguments[0]", SKY);
        mouse.click(canvas, 45, 4);
        long withSky = paintedPixels();
        assertTrue(withSky > withHouse + 20 * SIZE, "the sky was filled: " + withSky);
        assertEquals(0L, alphaAt(45, 60), "the horizon stopped the fill");
        js("document.getElementById('colour').value = arguments[0]", GRASS);
        mouse.click(canvas, 45, 60);
        assertEquals(ALL, paintedPixels(), "the fill covered the ground");
        browser.findElement(By.id("undo")).click();
        assertEquals(withSky, paintedPixels(), "undo restores the layer");
        browser.findElement(By.id("redo")).click();
        assertEquals(ALL, paintedPixels(), "redo applies the fill again");
        assertEquals(List.copyOf(new TreeSet<>(List.of(GRASS, HOUSE, SKY))), js("return window.studio.painting.palette(12).sort()"));

        // img2img with the canvas as the start
        browser.findElement(By.cssSelector("#modes [data-mode=img2img]")).click();
        assertTrue(browser.findElement(By.id("strength")).isDisplayed());
        assertEquals("true", browser.findElement(By.cssSelector("#modes [data-mode=factorgraph]")).getAttribute("aria-disabled"),
                "modes this server cannot run are shown disabled");
        assertEquals(FactorGraphSource.NO_FACTORS, browser.findElement(By.cssSelector("#modes [data-mode=factorgraph]")).getAttribute("title"));
        String prompt = "a red house on the grass under a clear blue sky";
        setField("prompt", prompt);
        setField("steps", "12");
        setField("strength", "0.75");
        setField("seed", "1234");
        js("window.seen = []; new MutationObserver(() => window.seen.push(document.getElementById('progress-text').textContent))"
                + ".observe(document.getElementById('progress-text'), {childList: true, characterData: true, subtree: true});");
        browser.findElement(By.id("generate")).click();
        awaitMessage("done", JOB_SECONDS);
        @SuppressWarnings("unchecked") List<String> seen = (List<String>) js("return window.seen");
        assertTrue(seen.stream().anyMatch(s -> s.matches("image 1/1, step \\d+/\\d+")), "progress events shown: " + seen);
        assertTrue(((String) js("return document.getElementById('preview').src")).startsWith("data:image/png;base64,"),
                "a predicted-x0 preview was shown");
        assertTrue(browser.findElement(By.id("message")).getText().contains("seed 1234"));

        // the result in the gallery, with its parameters; download it and read them from the file
        waiting(20).until(d -> !d.findElements(By.cssSelector("#gallery .item")).isEmpty());
        WebElement item = browser.findElement(By.cssSelector("#gallery .item"));
        assertTrue(item.getText().contains("img2img: " + prompt), item.getText());
        String file = item.getAttribute("data-file");
        item.findElement(By.cssSelector("a.download")).click();
        Path downloaded = downloads.resolve(file);
        waiting(20).until(d -> Files.isRegularFile(downloaded) && noPartialDownloads());
        JsonNode embedded = PngParameters.read(downloaded).request();
        assertEquals("img2img", embedded.get("mode").asText());
        assertEquals(prompt, embedded.get("prompt").asText());
        assertEquals(12, embedded.get("steps").asInt());
        assertEquals(0.75, embedded.get("strength").asDouble(), 1e-9);
        assertEquals(1234, embedded.get("seed").asLong());
        assertEquals(SIZE, embedded.get("width").asInt());
        // the ToyWorld model keeps the painting's layout: a blue sky above green ground
        BufferedImage result = ImageIO.read(downloaded.toFile());
        PictureChecks.assertSkyOverGrass(result);

        screenshot();

        // restore the parameters, use the result as the canvas
        setField("prompt", "something else");
        item.findElement(By.cssSelector("button.restore")).click();
        assertEquals(prompt, browser.findElement(By.id("prompt")).getAttribute("value"));
        js("window.studio.painting.clear()");
        item.findElement(By.cssSelector("button.use")).click();
        waiting(10).until(d -> paintedPixels() == ALL);
    }

    @Test
    void paintPrimitivesRasteriseAsExpected() {
        browser.get(studio.base + "/");
        waiting(20).until(d -> "true".equals(js("return document.body.dataset.ready")));
        // flood fill stops at a wall: a 5x5 layer with a vertical wall at x = 2 fills 2 columns of 5 = 10 pixels
        assertEquals(10L, js("const w = 5, h = 5, l = new Uint8ClampedArray(w * h * 4);"
                + "for (let y = 0; y < h; y++) l[(y * w + 2) * 4 + 3] = 255;"
                + "return Paint.floodRegion(l, w, h, 0, 0, new Uint8Array(w * h));"));
        // a 1-px line from corner to corner of an 8x8 mask touches exactly 8 pixels, all on the diagonal
        assertEquals("8,true", js("const m = new Uint8Array(64); Paint.line(m, 8, 8, 0, 0, 7, 7, 1);"
                + "let n = 0, diag = true; m.forEach((v, i) => { if (v) { n++; diag = diag && (i % 8) === Math.floor(i / 8); } });"
                + "return n + ',' + diag;"));
        // a filled ellipse is symmetric and inside its box
        assertEquals(true, js("const m = new Uint8Array(400); Paint.ellipse(m, 20, 20, 2, 4, 16, 14, 1, true);"
                + "for (let y = 0; y < 20; y++) for (let x = 0; x < 20; x++) {"
                + "  if (x < 19 && y < 19 && m[y * 20 + x] !== m[(18 - y) * 20 + (18 - x)]) return false;"
                + "  if (m[y * 20 + x] && (x < 2 || x > 16 || y < 4 || y > 14)) return false; }"
                + "return m.some(v => v);"));
        // half-opacity paint over nothing keeps the colour and sets alpha ~128; the eraser at full opacity clears it
        assertEquals("255,0,0,128,0", js("const l = new Uint8ClampedArray(4), m = new Uint8Array([1]);"
                + "Paint.applyMask(l, m, [255, 0, 0], 0.5, false); const s = Array.from(l).join(',');"
                + "Paint.applyMask(l, m, null, 1, true); return s + ',' + l[3];"));
    }

    @Test
    void strokesOverAToyWorldPaintingWithAPhraseRunGradopPlus() throws Exception {
        openPage();
        browser.findElement(By.cssSelector("#modes [data-mode=stroke2img]")).click();
        assertTrue(browser.findElement(By.id("method")).isDisplayed());
        assertEquals("gradop+", browser.findElement(By.id("method")).getAttribute("value"));
        assertEquals("0.8", browser.findElement(By.id("strength")).getAttribute("value"), "the method's default strength");
        assertEquals("12", browser.findElement(By.id("gradSteps")).getAttribute("value"));

        // ToyWorld's simulated stroke painting of a blue house on the grass, opened as the canvas
        Painting scenePainting = SCENE.painting(SCENE.seed(), PaintingOptions.defaults());
        Path file = dir.resolve("painting.png");
        Files.write(file, StudioFixture.png(scenePainting.image()));
        browser.findElement(By.id("open")).sendKeys(file.toString());
        waiting(10).until(d -> paintedPixels() == ALL);

        // a red house drawn with the mouse on the empty grass left of the blue one: the region table lists it too
        WebElement canvas = browser.findElement(By.id("canvas"));
        js("document.getElementById('size').value = 6; document.getElementById('colour').value = arguments[0]", HOUSE);
        mouse.drag(canvas, 8, 36, 20, 36);
        mouse.drag(canvas, 8, 42, 20, 42);
        SortedSet<String> colours = new TreeSet<>(List.of(HOUSE));
        for (int rgb : scenePainting.rgb()) colours.add(String.format("#%06x", rgb));
        assertEquals(List.copyOf(colours), js("return [...document.querySelectorAll('#regions tr[data-colour]')].map(r => r.dataset.colour).sort()"));

        String prompt = "a red house and a blue house on the grass under a clear blue sky";
        setField("prompt", prompt);
        setField("steps", "12");
        setField("seed", "77");
        setField("iterations", "1");
        setField("gradSteps", "6");
        // a phrase that is not in the prompt: the server's message is shown, nothing runs
        browser.findElement(By.cssSelector("#regions tr[data-colour='" + HOUSE + "'] .phrase")).sendKeys("castle");
        browser.findElement(By.id("generate")).click();
        waiting(20).until(d -> d.findElement(By.id("message")).getText().contains("does not occur in prompt"));
        assertTrue(browser.findElement(By.id("message")).getAttribute("class").contains("error"));
        browser.findElement(By.cssSelector("#regions tr[data-colour='" + HOUSE + "'] .phrase")).clear();
        browser.findElement(By.cssSelector("#regions tr[data-colour='" + HOUSE + "'] .phrase")).sendKeys("red house");
        // a later stroke rebuilds the table and keeps what was typed
        mouse.click(canvas, 14, 39);
        assertEquals("red house", browser.findElement(By.cssSelector("#regions tr[data-colour='" + HOUSE + "'] .phrase")).getAttribute("value"));

        browser.findElement(By.id("generate")).click();
        awaitMessage("done", JOB_SECONDS);
        assertTrue(((String) js("return document.getElementById('preview').src")).startsWith("data:image/png;base64,"), "a preview was shown");
        assertEquals("gradop+ (official)", browser.findElement(By.cssSelector("#results figcaption")).getText());
        WebElement item = browser.findElement(By.cssSelector("#gallery .item"));
        assertTrue(item.getText().contains("stroke2img: " + prompt), item.getText());
        assertTrue(item.findElement(By.cssSelector(".method")).getText().contains("gradop+ official: " + HOUSE.toUpperCase() + "=red house"), item.getText());
        JsonNode recorded = StudioFixture.json(studio.get("/api/gallery")).at("/items/0/parameters");
        assertEquals(6, recorded.at("/settings/gradSteps").asInt());
        assertEquals(77, recorded.at("/generation/seed").asLong());
        PictureChecks.assertSkyOverGrass(galleryImage(0));
        screenshot("studio-stroke.png");

        // restoring the parameters brings back the method's settings
        setField("gradSteps", "9");
        item.findElement(By.cssSelector("button.restore")).click();
        assertEquals("6", browser.findElement(By.id("gradSteps")).getAttribute("value"));
    }

    @Test
    void paintAMaskOverAnOpenedImageAndRunAnEdit() throws Exception {
        openPage();
        Path picture = dir.resolve("scene.png");
        Files.write(picture, StudioFixture.png(SCENE.image()));
        browser.findElement(By.id("open")).sendKeys(picture.toString());
        waiting(10).until(d -> paintedPixels() == ALL);
        String before = (String) js("return window.studio.painting.layer.join(',')");

        browser.findElement(By.cssSelector("#modes [data-mode=edit]")).click();
        assertEquals("Samples", browser.findElement(By.id("count-label")).getText());
        assertTrue(browser.findElement(By.id("repair")).isSelected(), "the recommended preset repairs the background");
        assertEquals("background", browser.findElement(By.id("rankWith")).getAttribute("value"), "ranked by background PSNR");
        assertFalse(browser.findElement(By.cssSelector("#rankWith option[value=clip]")).isEnabled(), "no --clip: CLIP ranking offered disabled");
        // the mask: a wide upright stroke over the empty grass left of the house and the sky above it, where a tree grows
        WebElement canvas = browser.findElement(By.id("canvas"));
        js("document.getElementById('size').value = 12");
        mouse.drag(canvas, 16, 20, 16, 48);
        long masked = maskedPixels();
        assertTrue(masked > 100 && masked < ALL / 4, "the mask brush painted the mask: " + masked);
        assertEquals(before, js("return window.studio.painting.layer.join(',')"), "the picture is untouched");
        // the mask shows as a translucent magenta tint over the picture: (p + 0.55 (tint - p)) per channel
        assertEquals("true,true", js("const x = arguments[0], y = arguments[1], o = (y * window.studio.painting.width + x) * 4;"
                + "const c = document.getElementById('canvas').getContext('2d').getImageData(x, y, 1, 1).data;"
                + "const p = window.studio.painting.composite().data.slice(o, o + 4);"
                + "const near = (v, t) => Math.abs(v - t) <= 1;"
                + "return [window.studio.mask.layer[o + 3] > 0, near(c[0], p[0] * 0.45 + 255 * 0.55) && near(c[1], p[1] * 0.45)"
                + " && near(c[2], p[2] * 0.45 + 255 * 0.55)].join(',');", 16, 40));
        browser.findElement(By.id("mask-undo")).click();
        assertEquals(0L, maskedPixels(), "mask undo");
        mouse.drag(canvas, 16, 20, 16, 48);
        assertEquals(masked, maskedPixels());

        String prompt = "a tall oak tree and a blue house on the grass";
        setField("prompt", prompt);
        setField("steps", "10");
        setField("count", "2");
        setField("repairSteps", "5");
        setField("seed", "5");
        browser.findElement(By.id("generate")).click();
        awaitMessage("done", JOB_SECONDS);
        waiting(10).until(d -> d.findElements(By.cssSelector("#results figcaption")).size() == 3);
        List<String> captions = browser.findElements(By.cssSelector("#results figcaption")).stream().map(WebElement::getText).toList();
        assertTrue(captions.get(0).startsWith("best, repaired"), captions.toString());
        assertTrue(captions.get(1).startsWith("#1 background-psnr"), captions.toString());
        assertTrue(captions.get(2).startsWith("#2 background-psnr"), captions.toString());
        List<String> methodLines = browser.findElements(By.cssSelector("#gallery .item .method")).stream().limit(3).map(WebElement::getText).toList();
        assertTrue(methodLines.get(0).startsWith("rank 1") && methodLines.get(0).endsWith("repaired"), methodLines.toString());
        assertTrue(methodLines.get(1).startsWith("rank 1, background-psnr"), methodLines.toString());
        assertTrue(methodLines.get(2).startsWith("rank 2, background-psnr"), methodLines.toString());
        assertTrue(browser.findElement(By.cssSelector("#gallery .item")).getText().contains("edit: " + prompt));

        // the best result keeps the picture outside the mask (pixel paste) and regenerated what is under it
        @SuppressWarnings("unchecked") List<Long> maskAlpha = (List<Long>) js("return Array.from(window.studio.mask.layer.filter((v, i) => i % 4 === 3))");
        BufferedImage best = galleryImage(0), source = SCENE.image();
        int outsideWorst = 0;
        double insideChange = 0;
        for (int i = 0; i < ALL; i++) {
            int diff = PictureChecks.largestChannelChange(best.getRGB(i % SIZE, i / SIZE), source.getRGB(i % SIZE, i / SIZE));
            if (maskAlpha.get(i) == 0) outsideWorst = Math.max(outsideWorst, diff);
            else insideChange += diff / (double) masked;
        }
        assertTrue(outsideWorst <= 1, "outside the mask the picture is kept: largest change " + outsideWorst);
        assertTrue(insideChange > 5, "the masked area was regenerated: mean largest-channel change " + insideChange);
        screenshot("studio-edit.png");
    }

    /** The gallery's k-th file (newest first), decoded. */
    private BufferedImage galleryImage(int k) throws Exception {
        String url = StudioFixture.json(studio.get("/api/gallery")).at("/items/" + k + "/url").asText();
        return ImageIO.read(new ByteArrayInputStream(studio.getBytes(url).body()));
    }

    private long alphaAt(int x, int y) {
        return (Long) js("return window.studio.painting.layer[(arguments[1] * window.studio.painting.width + arguments[0]) * 4 + 3]", x, y);
    }

    /** Waits for the status line to start with {@code prefix}; a timeout reports what it says instead. */
    private void awaitMessage(String prefix, int seconds) {
        try {
            waiting(seconds).until(d -> d.findElement(By.id("message")).getText().startsWith(prefix));
        } catch (org.openqa.selenium.TimeoutException e) {
            fail("waited for '" + prefix + "', the page says '" + browser.findElement(By.id("message")).getText() + "', progress '"
                    + browser.findElement(By.id("progress-text")).getText() + "'");
        }
    }

    private void openPage() {
        browser.get(studio.base + "/");
        waiting(20).until(d -> "true".equals(js("return document.body.dataset.ready")));
    }

    long maskedPixels() {
        return (Long) js("const l = window.studio.mask.layer; let n = 0; for (let i = 3; i < l.length; i += 4) if (l[i]) n++; return n;");
    }

    /** The page as a user sees it, for docs/studio.png (copied by hand: tests do not write into the sources). */
    private void screenshot() throws java.io.IOException {
        screenshot("studio.png");
    }

    /** A taller window shows the results and the gallery below the form too. */
    private void screenshot(String name) throws java.io.IOException {
        js("window.scrollTo(0, 0)");
        new Actions(browser).moveToElement(browser.findElement(By.tagName("h1"))).perform();   // no hover highlight on a button
        browser.manage().window().setSize(new org.openqa.selenium.Dimension(1200, 1240));
        File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        browser.manage().window().setSize(new org.openqa.selenium.Dimension(1200, 860));
        Path target = Path.of("target", name);
        Files.createDirectories(target.getParent());
        Files.copy(shot.toPath(), target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private void setField(String id, String value) {
        WebElement e = browser.findElement(By.id(id));
        e.clear();
        e.sendKeys(value);
    }

    private static boolean noPartialDownloads() {
        try (Stream<Path> files = Files.list(downloads)) {
            return files.noneMatch(p -> p.toString().endsWith(".crdownload"));
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
