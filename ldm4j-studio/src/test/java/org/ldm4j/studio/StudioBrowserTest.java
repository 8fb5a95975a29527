package org.ldm4j.studio;

import com.fasterxml.jackson.databind.JsonNode;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.image.PngParameters;
import org.ldm4j.pipeline.TinyStableDiffusion;
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

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The page in a real browser (Debian's chromium + chromedriver, headless): draw on the canvas, run img2img on the
 * tiny model, watch progress, find the result in the gallery, download it and read its embedded parameters.
 * Without chromium this FAILS (CI installs it): a skipped browser test would hide a broken page.
 */
class StudioBrowserTest {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    @TempDir static Path dir;
    static StudioFixture studio;
    static ChromeDriver browser;
    static Path downloads;

    @BeforeAll
    static void start() throws Exception {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            fail("the browser test needs " + CHROMIUM + " and " + CHROMEDRIVER
                    + ": install them with `apt-get install -y chromium chromium-driver` (.ci/run does)");
        }
        torch.set_num_threads(1);
        Path model = TinyStableDiffusion.write(dir.resolve("tiny"), 11);
        studio = new StudioFixture(StudioServer.start(StudioFixture.config(model, dir.resolve("gallery"), StudioFixture.testLimits())));
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
        browser.get(studio.base + "/");
        waiting(20).until(d -> "true".equals(js("return document.body.dataset.ready")));
        assertTrue(browser.findElement(By.id("model-status")).getText().contains("tiny"));
        assertEquals(16L, js("return window.studio.painting.width"), "the canvas takes the model's size");

        // brush strokes across the canvas
        WebElement canvas = browser.findElement(By.id("canvas"));
        int side = canvas.getSize().getWidth();
        assertTrue(side >= 16 * 8, "a 16x16 canvas is shown zoomed: " + side + " px");
        js("document.getElementById('colour').value = '#1040c0'");
        new Actions(browser).moveToElement(canvas, -side / 3, -side / 3).clickAndHold()
                .moveByOffset(side / 2, 0).moveByOffset(0, side / 2).release().perform();
        long afterStroke = paintedPixels();
        assertTrue(afterStroke >= 16, "the stroke painted pixels: " + afterStroke);
        assertEquals("#1040c0", js("return window.studio.painting.palette(4)[0]"), "the palette shows the colour in use");
        assertEquals(1L, js("return document.querySelectorAll('#palette button').length"));

        // a filled rectangle, then fill the rest with the bucket; undo takes the fill back
        browser.findElement(By.cssSelector("[data-tool=rect]")).click();
        js("document.getElementById('filled').checked = true; document.getElementById('colour').value = '#20a040'");
        new Actions(browser).moveToElement(canvas, side / 8, side / 8).clickAndHold().moveByOffset(side / 4, side / 4).release().perform();
        long withRect = paintedPixels();
        assertTrue(withRect > afterStroke, "rectangle added pixels");
        browser.findElement(By.cssSelector("[data-tool=fill]")).click();
        js("document.getElementById('colour').value = '#f0e0a0'");
        new Actions(browser).moveToElement(canvas, -side / 2 + 3, side / 2 - 3).click().perform();
        assertEquals(256L, paintedPixels(), "the fill covered the empty region");
        browser.findElement(By.id("undo")).click();
        assertEquals(withRect, paintedPixels(), "undo restores the layer");
        browser.findElement(By.id("redo")).click();
        assertEquals(256L, paintedPixels(), "redo applies the fill again");

        // img2img with the canvas as the start
        browser.findElement(By.cssSelector("#modes [data-mode=img2img]")).click();
        assertTrue(browser.findElement(By.id("strength")).isDisplayed());
        assertEquals("true", browser.findElement(By.cssSelector("#modes [data-mode=factorgraph]")).getAttribute("aria-disabled"),
                "modes this server cannot run are shown disabled");
        assertEquals(FactorGraphSource.NO_FACTORS, browser.findElement(By.cssSelector("#modes [data-mode=factorgraph]")).getAttribute("title"));
        setField("prompt", "a blue boat on a lake");
        setField("steps", "12");
        setField("strength", "0.6");
        setField("seed", "1234");
        js("window.seen = []; new MutationObserver(() => window.seen.push(document.getElementById('progress-text').textContent))"
                + ".observe(document.getElementById('progress-text'), {childList: true, characterData: true, subtree: true});");
        browser.findElement(By.id("generate")).click();
        awaitMessage("done", 60);
        @SuppressWarnings("unchecked") List<String> seen = (List<String>) js("return window.seen");
        assertTrue(seen.stream().anyMatch(s -> s.matches("image 1/1, step \\d+/\\d+")), "progress events shown: " + seen);
        assertTrue(((String) js("return document.getElementById('preview').src")).startsWith("data:image/png;base64,"),
                "a predicted-x0 preview was shown");
        assertTrue(browser.findElement(By.id("message")).getText().contains("seed 1234"));

        // the result in the gallery, with its parameters; download it and read them from the file
        waiting(20).until(d -> !d.findElements(By.cssSelector("#gallery .item")).isEmpty());
        WebElement item = browser.findElement(By.cssSelector("#gallery .item"));
        assertTrue(item.getText().contains("img2img: a blue boat on a lake"), item.getText());
        String file = item.getAttribute("data-file");
        item.findElement(By.cssSelector("a.download")).click();
        Path downloaded = downloads.resolve(file);
        waiting(20).until(d -> Files.isRegularFile(downloaded) && noPartialDownloads());
        JsonNode embedded = PngParameters.read(downloaded).request();
        assertEquals("img2img", embedded.get("mode").asText());
        assertEquals("a blue boat on a lake", embedded.get("prompt").asText());
        assertEquals(12, embedded.get("steps").asInt());
        assertEquals(0.6, embedded.get("strength").asDouble(), 1e-9);
        assertEquals(1234, embedded.get("seed").asLong());
        assertEquals(16, embedded.get("width").asInt());

        screenshot();

        // restore the parameters, use the result as the canvas
        setField("prompt", "something else");
        item.findElement(By.cssSelector("button.restore")).click();
        assertEquals("a blue boat on a lake", browser.findElement(By.id("prompt")).getAttribute("value"));
        js("window.studio.painting.clear()");
        item.findElement(By.cssSelector("button.use")).click();
        waiting(10).until(d -> paintedPixels() == 256L);
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
    void strokesInTwoColoursWithAPhraseRunGradopPlus() throws Exception {
        openPage();
        browser.findElement(By.cssSelector("#modes [data-mode=stroke2img]")).click();
        assertTrue(browser.findElement(By.id("method")).isDisplayed());
        assertEquals("gradop+", browser.findElement(By.id("method")).getAttribute("value"));
        assertEquals("0.8", browser.findElement(By.id("strength")).getAttribute("value"), "the method's default strength");
        assertEquals("12", browser.findElement(By.id("gradSteps")).getAttribute("value"));

        // two strokes in two colours: the region table lists both
        WebElement canvas = browser.findElement(By.id("canvas"));
        int side = canvas.getSize().getWidth();
        js("document.getElementById('size').value = 4; document.getElementById('colour').value = '#d03020'");
        new Actions(browser).moveToElement(canvas, -side / 3, -side / 4).clickAndHold().moveByOffset(side / 2, 0).release().perform();
        js("document.getElementById('colour').value = '#1040c0'");
        new Actions(browser).moveToElement(canvas, -side / 3, side / 4).clickAndHold().moveByOffset(side / 2, 0).release().perform();
        assertEquals(List.of("#d03020", "#1040c0"), js("return [...document.querySelectorAll('#regions tr[data-colour]')].map(r => r.dataset.colour).sort().reverse()"));

        setField("prompt", "a red house by a lake");
        setField("steps", "4");
        setField("seed", "77");
        setField("iterations", "1");
        setField("gradSteps", "2");
        setField("blurKernel", "5");
        setField("blurSigma", "1");
        // a phrase that is not in the prompt: the server's message is shown, nothing runs
        browser.findElement(By.cssSelector("#regions tr[data-colour='#1040c0'] .phrase")).sendKeys("castle");
        browser.findElement(By.id("generate")).click();
        waiting(20).until(d -> d.findElement(By.id("message")).getText().contains("does not occur in prompt"));
        assertTrue(browser.findElement(By.id("message")).getAttribute("class").contains("error"));
        browser.findElement(By.cssSelector("#regions tr[data-colour='#1040c0'] .phrase")).clear();
        browser.findElement(By.cssSelector("#regions tr[data-colour='#d03020'] .phrase")).sendKeys("house");
        // a later stroke rebuilds the table and keeps what was typed
        new Actions(browser).moveToElement(canvas, 0, 0).click().perform();
        assertEquals("house", browser.findElement(By.cssSelector("#regions tr[data-colour='#d03020'] .phrase")).getAttribute("value"));

        browser.findElement(By.id("generate")).click();
        awaitMessage("done", 60);
        assertTrue(((String) js("return document.getElementById('preview').src")).startsWith("data:image/png;base64,"), "a preview was shown");
        assertEquals("gradop+ (official)", browser.findElement(By.cssSelector("#results figcaption")).getText());
        WebElement item = browser.findElement(By.cssSelector("#gallery .item"));
        assertTrue(item.getText().contains("stroke2img: a red house by a lake"), item.getText());
        assertTrue(item.findElement(By.cssSelector(".method")).getText().contains("gradop+ official: #D03020=house"), item.getText());
        JsonNode recorded = StudioFixture.json(studio.get("/api/gallery")).at("/items/0/parameters");
        assertEquals(2, recorded.at("/settings/gradSteps").asInt());
        assertEquals(77, recorded.at("/generation/seed").asLong());
        screenshot("studio-stroke.png");

        // restoring the parameters brings back the method's settings
        setField("gradSteps", "9");
        item.findElement(By.cssSelector("button.restore")).click();
        assertEquals("2", browser.findElement(By.id("gradSteps")).getAttribute("value"));
    }

    @Test
    void paintAMaskOverAnOpenedImageAndRunAnEdit() throws Exception {
        openPage();
        Path picture = dir.resolve("lake.png");
        Files.write(picture, StudioFixture.png(StudioFixture.picture(16, 16)));
        browser.findElement(By.id("open")).sendKeys(picture.toString());
        waiting(10).until(d -> paintedPixels() == 256L);
        String before = (String) js("return window.studio.painting.layer.join(',')");

        browser.findElement(By.cssSelector("#modes [data-mode=edit]")).click();
        assertEquals("Samples", browser.findElement(By.id("count-label")).getText());
        assertTrue(browser.findElement(By.id("repair")).isSelected(), "the recommended preset repairs the background");
        WebElement canvas = browser.findElement(By.id("canvas"));
        int side = canvas.getSize().getWidth();
        js("document.getElementById('size').value = 5");
        new Actions(browser).moveToElement(canvas, -side / 6, 0).clickAndHold().moveByOffset(side / 3, 0).release().perform();
        long masked = maskedPixels();
        assertTrue(masked > 10 && masked < 256, "the mask brush painted the mask: " + masked);
        assertEquals(before, js("return window.studio.painting.layer.join(',')"), "the picture is untouched");
        // the mask shows as a translucent magenta tint over the picture: (p + 0.55 (tint - p)) per channel
        assertEquals("true,true", js("const c = document.getElementById('canvas').getContext('2d').getImageData(8, 8, 1, 1).data;"
                + "const p = window.studio.painting.composite().data.slice((8 * 16 + 8) * 4, (8 * 16 + 8) * 4 + 4);"
                + "const near = (v, t) => Math.abs(v - t) <= 1;"
                + "return [window.studio.mask.layer[(8 * 16 + 8) * 4 + 3] > 0, near(c[0], p[0] * 0.45 + 255 * 0.55) && near(c[1], p[1] * 0.45)"
                + " && near(c[2], p[2] * 0.45 + 255 * 0.55)].join(',');"));
        browser.findElement(By.id("mask-undo")).click();
        assertEquals(0L, maskedPixels(), "mask undo");
        new Actions(browser).moveToElement(canvas, -side / 6, 0).clickAndHold().moveByOffset(side / 3, 0).release().perform();
        assertEquals(masked, maskedPixels());

        setField("prompt", "a boat");
        setField("steps", "4");
        setField("count", "2");
        setField("repairSteps", "2");
        setField("seed", "5");
        browser.findElement(By.id("generate")).click();
        awaitMessage("done", 60);
        waiting(10).until(d -> d.findElements(By.cssSelector("#results figcaption")).size() == 3);
        List<String> captions = browser.findElements(By.cssSelector("#results figcaption")).stream().map(WebElement::getText).toList();
        assertTrue(captions.get(0).startsWith("best, repaired"), captions.toString());
        assertTrue(captions.get(1).startsWith("#1 background-psnr"), captions.toString());
        assertTrue(captions.get(2).startsWith("#2 background-psnr"), captions.toString());
        List<String> methodLines = browser.findElements(By.cssSelector("#gallery .item .method")).stream().limit(3).map(WebElement::getText).toList();
        assertTrue(methodLines.get(0).startsWith("rank 1") && methodLines.get(0).endsWith("repaired"), methodLines.toString());
        assertTrue(methodLines.get(1).startsWith("rank 1, background-psnr"), methodLines.toString());
        assertTrue(methodLines.get(2).startsWith("rank 2, background-psnr"), methodLines.toString());
        assertTrue(browser.findElement(By.cssSelector("#gallery .item")).getText().contains("edit: a boat"));
        screenshot("studio-edit.png");
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
