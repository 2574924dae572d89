package dev.tandem.ha;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Function;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Debian's headless Chromium driven by Debian's chromedriver (both from apt, pinned to each other):
 * nothing is downloaded at test time, so Selenium Manager is never asked. Screenshots of each step go
 * to {@code target/console-screenshots}.
 */
final class Browser implements AutoCloseable {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    final WebDriver driver;
    private final Path shots;
    private int step;

    static boolean available() {
        return Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
    }

    Browser(Path userData, Path shots, int width, int height) throws Exception {
        this.shots = shots;
        Files.createDirectories(shots);
        try (var old = Files.list(shots)) { // this run's steps only
            for (Path p : old.filter(p -> p.toString().endsWith(".png")).toList()) Files.deleteIfExists(p);
        }
        System.setProperty("SE_OFFLINE", "true"); // belt and braces: the driver path below already keeps Selenium Manager out
        ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-default-apps", "--user-data-dir=" + userData, "--window-size=" + width + "," + height);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().withLogFile(shots.resolve("chromedriver.log").toFile()).build();
        driver = new ChromeDriver(service, options);
        driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30)).scriptTimeout(Duration.ofSeconds(30));
    }

    void open(String url) {
        driver.get(url);
    }

    WebElement find(String css) {
        return driver.findElement(By.cssSelector(css));
    }

    /** Waits (a deadline, not a pause) until {@code condition} answers something other than null or false. */
    <T> T await(String what, Duration deadline, Function<WebDriver, T> condition) {
        try {
            return dev.tandem.testing.Await.value(what, deadline, Duration.ofMillis(100), () -> condition.apply(driver),
                    v -> v != null && !Boolean.FALSE.equals(v), () -> "the page shows " + pageState());
        } catch (AssertionError e) {
            shot("failed-" + what.replaceAll("[^A-Za-z0-9]+", "-"));
            throw e;
        }
    }

    /** What an operator would read first on the page (banner, source line, notices), for failure messages. */
    String pageState() {
        try {
            Object s = ((org.openqa.selenium.JavascriptExecutor) driver).executeScript(
                    "const t = (id) => { const e = document.getElementById(id); return e && !e.hidden && e.offsetParent !== null"
                            + " ? id + ': ' + e.innerText.trim().replace(/\\s+/g, ' ') : null; };"
                            + "return [location.href, t('banner'), t('source'), t('switched'), t('login-error'), t('action-result')]"
                            + ".filter(Boolean).join(' | ');");
            return String.valueOf(s);
        } catch (RuntimeException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    WebElement awaitVisible(String css, Duration deadline) {
        return await(css + " is shown", deadline, d -> {
            WebElement e = d.findElement(By.cssSelector(css));
            return e.isDisplayed() ? e : null;
        });
    }

    /** Saves a screenshot of the page as NN-name.png. */
    Path shot(String name) {
        try {
            File f = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
            Path to = shots.resolve(String.format("%02d-%s.png", ++step, name));
            Files.copy(f.toPath(), to, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            return to;
        } catch (Exception e) {
            return null;
        }
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } catch (RuntimeException ignored) {
            // the browser is gone already
        }
    }
}
