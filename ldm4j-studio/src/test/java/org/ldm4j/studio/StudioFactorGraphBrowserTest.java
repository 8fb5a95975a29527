package org.ldm4j.studio;

import com.fasterxml.jackson.databind.JsonNode;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
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

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The Factor graph tab in headless chromium, on a tiny random FG-DM ({@link TinyFactorGraph}): generate with SBPC,
 * see the maps as layers and the candidates' recalls, select an object on the segmentation map, drag it, regenerate,
 * and get a new image. Fails without chromium, as {@link StudioBrowserTest} does.
 */
class StudioFactorGraphBrowserTest {
    @TempDir static Path dir;
    static StudioFixture studio;
    static ChromeDriver browser;

    @BeforeAll
    static void start() throws Exception {
        if (!Files.isExecutable(StudioBrowserTest.CHROMIUM) || !Files.isExecutable(StudioBrowserTest.CHROMEDRIVER)) {
            fail("the browser test needs " + StudioBrowserTest.CHROMIUM + " and " + StudioBrowserTest.CHROMEDRIVER
                    + ": install them with `apt-get install -y chromium chromium-driver` (.ci/run does)");
        }
        torch.set_num_threads(1);
        Path model = TinyStableDiffusion.write(dir.resolve("tiny"), 3);
        studio = new StudioFixture(StudioServer.start(StudioFixture.config(model, dir.resolve("gallery"), StudioFixture.testLimits()),
                TinyFactorGraph.source()));
        ChromeOptions options = new ChromeOptions();
        options.setBinary(StudioBrowserTest.CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--user-data-dir=" + Files.createDirectories(dir.resolve("profile")), "--window-size=1200,860");
        browser = new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(StudioBrowserTest.CHROMEDRIVER.toFile()).build(), options);
    }

    @AfterAll
    static void stop() {
        if (browser != null) browser.quit();
        if (studio != null) studio.close();
    }

    Object js(String script, Object... args) { return ((JavascriptExecutor) browser).executeScript(script, args); }

    WebDriverWait waiting(int seconds) { return new WebDriverWait(browser, Duration.ofSeconds(seconds)); }

    @Test
    void generateSelectAndMoveAnObjectThenRegenerate() throws Exception {
        browser.get(studio.base + "/");
        waiting(20).until(d -> "true".equals(js("return document.body.dataset.ready")));
        WebElement tab = browser.findElement(By.cssSelector("#modes [data-mode=factorgraph]"));
        assertEquals(null, tab.getAttribute("aria-disabled"), "enabled: the server has an FG-DM");
        tab.click();
        assertTrue(browser.findElement(By.id("fg-canvas")).isDisplayed());
        assertFalse(browser.findElement(By.id("canvas")).isDisplayed(), "the paint canvas gives way to the factor graph view");
        assertTrue(browser.findElement(By.id("n")).isDisplayed());
        assertFalse(browser.findElement(By.id("scheduler")).isDisplayed(), "each factor has its own sampler");
        assertEquals("tree", new org.openqa.selenium.support.ui.Select(browser.findElement(By.id("fg-class"))).getOptions().stream()
                .map(WebElement::getText).filter("tree"::equals).findFirst().orElse(null), "the add-object classes are the palette's");

        setField("prompt", "a rock, a boat, a car and a house");
        setField("steps", "2");
        setField("seed", "39");
        setField("n", "3");
        browser.findElement(By.id("generate")).click();
        awaitMessage("done", 60);

        // the SBPC candidates with their recalls, the chosen one marked; the maps as layers
        List<String> candidates = browser.findElements(By.cssSelector("#fg-candidates li")).stream().map(WebElement::getText).toList();
        assertEquals(3, candidates.size(), candidates.toString());
        assertTrue(candidates.get(0).matches("seed 39: recall \\d\\.\\d\\d of house, boat, car, rock"), candidates.toString());
        assertEquals(1, browser.findElements(By.cssSelector("#fg-candidates li.chosen")).size());
        assertEquals(List.of("image", "seg", "depth"), browser.findElements(By.cssSelector("#fg-layers input"))
                .stream().map(e -> e.getAttribute("data-layer")).toList());
        String generatedMap = (String) js("return window.studio.fg.state.map");
        assertTrue(generatedMap.startsWith("data:image/png;base64,"));

        // the layer toggles change the view: with only the image layer, the view is the image
        String withMap = viewPixels();
        browser.findElement(By.cssSelector("#fg-layers input[data-layer=seg]")).click();
        assertNotEquals(withMap, viewPixels(), "hiding the segmentation layer changes the view");
        browser.findElement(By.cssSelector("#fg-layers input[data-layer=seg]")).click();

        // select the largest object by clicking one of its pixels: the server's region is outlined
        List<?> pick = (List<?>) ((JavascriptExecutor) browser).executeAsyncScript(
                "const done = arguments[arguments.length - 1]; const img = new Image(); img.src = window.studio.fg.state.map;"
                + "img.decode().then(() => { const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;"
                + "const g = c.getContext('2d'); g.drawImage(img, 0, 0); const d = g.getImageData(0, 0, img.width, img.height).data;"
                + "const count = new Map(); for (let i = 0; i < d.length; i += 4) { const k = d[i] + ',' + d[i+1] + ',' + d[i+2];"
                + "  if (k !== '0,0,0') count.set(k, (count.get(k) || 0) + 1); }"
                + "const best = [...count.entries()].sort((a, b) => b[1] - a[1])[0][0];"
                + "for (let i = 0; i < d.length; i += 4) if (d[i] + ',' + d[i+1] + ',' + d[i+2] === best) {"
                + "  done([(i / 4) % img.width, Math.floor(i / 4 / img.width), img.width]); return; } });");
        int x = ((Number) pick.get(0)).intValue(), y = ((Number) pick.get(1)).intValue(), side = ((Number) pick.get(2)).intValue();
        WebElement view = browser.findElement(By.id("fg-canvas"));
        int cell = view.getSize().getWidth() / side;
        int ox = x * cell + cell / 2 - view.getSize().getWidth() / 2, oy = y * cell + cell / 2 - view.getSize().getHeight() / 2;
        new Actions(browser).moveToElement(view, ox, oy).click().perform();
        waiting(10).until(d -> d.findElement(By.id("fg-selection")).getText().startsWith("selected: "));
        assertTrue((Boolean) js("return window.studio.fg.state.regionMask[arguments[0]] === 1", y * side + x), "the clicked pixel is selected");

        // drag it 3 map pixels to the right (or left near the edge): the server moves it
        int dx = x + 3 < side ? 3 : -3;
        new Actions(browser).moveToElement(view, ox, oy).clickAndHold().moveByOffset(dx * cell / 2, 0).moveByOffset(dx * cell - dx * cell / 2, 0)
                .release().perform();
        waiting(10).until(d -> "1 edit(s) since generating".equals(d.findElement(By.id("fg-edits")).getText()));
        assertNotEquals(generatedMap, js("return window.studio.fg.state.map"), "the map changed");
        waiting(10).until(d -> d.findElement(By.id("fg-selection")).getText().startsWith("selected: "));

        // regenerate from the edited map: a new image, from a mapedit job
        js("document.getElementById('message').textContent = ''");
        browser.findElement(By.id("fg-regenerate")).click();
        awaitMessage("done", 60);
        JsonNode gallery = StudioFixture.json(studio.get("/api/gallery")).get("items");
        assertEquals("mapedit", gallery.at("/0/parameters/request/mode").asText());
        assertEquals("factorgraph", gallery.at("/1/parameters/request/mode").asText());
        assertEquals(gallery.at("/1/parameters/request/seed"), gallery.at("/0/parameters/request/seed"), "regenerated with the chosen seed");
        assertFalse(Arrays.equals(pixels(gallery.at("/0/url").asText()), pixels(gallery.at("/1/url").asText())), "the image follows the edited map");
        waiting(10).until(d -> d.findElement(By.cssSelector("#gallery .item")).getText().contains("mapedit: a rock"));

        // for the screenshot: the moved object selected, depth shown too
        new Actions(browser).moveToElement(view, ox + dx * cell, oy).click().perform();
        waiting(10).until(d -> d.findElement(By.id("fg-selection")).getText().startsWith("selected: "));
        screenshot("studio-factorgraph.png");
    }

    private String viewPixels() {
        return (String) js("const c = document.getElementById('fg-canvas'); return c.getContext('2d').getImageData(0, 0, c.width, c.height).data.join(',');");
    }

    private static int[] pixels(String url) throws Exception {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(studio.getBytes(url).body()));
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    private void awaitMessage(String prefix, int seconds) {
        try {
            waiting(seconds).until(d -> d.findElement(By.id("message")).getText().startsWith(prefix));
        } catch (org.openqa.selenium.TimeoutException e) {
            fail("waited for '" + prefix + "', the page says '" + browser.findElement(By.id("message")).getText() + "', progress '"
                    + browser.findElement(By.id("progress-text")).getText() + "'");
        }
    }

    private void setField(String id, String value) {
        WebElement e = browser.findElement(By.id(id));
        e.clear();
        e.sendKeys(value);
    }

    /** The page as a user sees it, written to target/ for docs/ (copied by hand: tests do not write into the sources). */
    private void screenshot(String name) throws java.io.IOException {
        js("window.scrollTo(0, 0)");
        browser.manage().window().setSize(new org.openqa.selenium.Dimension(1200, 1240));
        File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        browser.manage().window().setSize(new org.openqa.selenium.Dimension(1200, 860));
        Path target = Path.of("target", name);
        Files.createDirectories(target.getParent());
        Files.copy(shot.toPath(), target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
}
