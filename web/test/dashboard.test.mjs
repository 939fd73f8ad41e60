// End to end in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core): the dashboard loads, shows the sites and nodes, shows
// the submitted job, follows it to completion, opens its log, and shows
// the placement in the audit trail; its job page shows its ranks and why
// it was placed; a job waiting behind it shows its
// predicted start and the standing forecast its site; the world map draws
// the land and the site, and each chart panel of the last 24 h draws.
// With $STARGATE_SCREENSHOTS set to a directory, a screenshot of the map,
// of each panel and of the page goes there (docs/images/ holds the
// ones bench/dashboard_screenshots.sh made).
// Usage: node dashboard.test.mjs URL JOB_ID EXPECTED_LOG_TEXT [WAITING_JOB_ID [RELEASE_FILE]]
import { mkdirSync, writeFileSync } from "node:fs";
import { chromium } from "playwright-core";

const [url, jobId, logText, waitingId, releaseFile] = process.argv.slice(2);
const fail = (msg) => { console.error(`FAIL: ${msg}`); process.exit(1); };

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector("[data-site]", { timeout: 15000 });
  await page.waitForSelector('[data-map-site="lab"]', { timeout: 15000 });  // on the map (--sites)
  // The world map: land from world-atlas, the site placed on it.
  await page.waitForFunction(() => (document.querySelector("#map path.land")?.getAttribute("d") || "").length > 1000,
                             null, { timeout: 15000 });
  // The last 24 h: every panel drew its chart (a uPlot canvas).
  const panels = ["power", "utilisation", "queue", "carbon", "throughput"];
  for (const p of panels) await page.waitForSelector(`[data-panel="${p}"] canvas`, { timeout: 30000 });
  if ((await page.textContent("body")).includes("Loading")) fail("a stray 'Loading' is on the page");
  const card = await page.textContent('[data-site="lab"]');
  if (!card.includes("56 g/kWh") || !card.includes("cap 1.0 MW")) fail(`site card: ${card}`);
  await page.waitForSelector(`tr[data-job="${jobId}"]`, { timeout: 15000 });
  const stateOf = () => page.textContent(`tr[data-job="${jobId}"] [data-state]`);
  const seen = new Set();
  const deadline = Date.now() + 60000;
  for (;;) {
    const s = (await stateOf()).trim();
    seen.add(s);
    // The job waits for this file once the page has shown it running.
    if (s === "running" && releaseFile) writeFileSync(releaseFile, "");
    if (s === "succeeded") break;
    if (s === "failed" || s === "cancelled") fail(`job ${jobId} ended ${s}`);
    if (Date.now() > deadline) fail(`job ${jobId} still ${s} after 60 s`);
    await page.waitForTimeout(200);
  }
  if (!seen.has("running")) fail(`the page never showed job ${jobId} running (saw ${[...seen].join(", ")})`);
  await page.click(`tr[data-job="${jobId}"] button`);
  await page.waitForFunction(
    ([id, text]) => document.querySelector(`[data-logs="${id}"]`)?.textContent.includes(text),
    [jobId, logText], { timeout: 15000 });
  // The job page: its ranks and their nodes, and why it was placed.
  await page.waitForSelector(`[data-job-page="${jobId}"] [data-ranks]`, { timeout: 15000 });
  const ranks = await page.$$eval(`[data-job-page="${jobId}"] [data-ranks] tr`,
                                  (rows) => rows.slice(1).map((r) => [...r.cells].map((c) => c.textContent.trim())));
  if (ranks.length !== 1 || ranks[0][0] !== "0" || ranks[0][1] !== "a") fail(`job page ranks: ${JSON.stringify(ranks)}`);
  await page.waitForFunction((id) => document.querySelector(`[data-job-page="${id}"] [data-job-audit]`)?.textContent.includes("place"),
                             jobId, { timeout: 15000 });
  const audit = await page.textContent("#audit");
  if (!audit.includes("place")) fail("no placement in the audit trail");
  const nodes = await page.textContent("#nodes");
  if (!nodes.includes("up")) fail("no node shown up");
  if (waitingId) {  // the standing forecast (every 10 s in the test) reaches the page
    await page.waitForFunction(
      (id) => /starts in \d+h\d\dm at lab/.test(document.querySelector(`tr[data-job="${id}"] [data-predicted]`)?.textContent || ""),
      waitingId, { timeout: 30000 });
    await page.waitForSelector('[data-forecast-site="lab"]', { timeout: 15000 });
    // Its estimate, from its file (the scheduler plans with it).
    const est = await page.textContent(`tr[data-job="${waitingId}"] [data-estimate]`);
    if (!/^1h00m \(file\)/.test(est)) fail(`job ${waitingId}'s estimate shows '${est}'`);
  }
  if (errors.length) fail(`page errors: ${errors.join("; ")}`);
  const shots = process.env.STARGATE_SCREENSHOTS;
  if (shots) {
    mkdirSync(shots, { recursive: true });
    await page.locator("#map").screenshot({ path: `${shots}/dashboard-map.png` });
    for (const p of panels) await page.locator(`[data-panel="${p}"]`).screenshot({ path: `${shots}/dashboard-${p}.png` });
    await page.locator(`[data-job-page="${jobId}"]`).screenshot({ path: `${shots}/dashboard-job.png` });
    await page.screenshot({ path: `${shots}/dashboard.png`, fullPage: true });
  }
  console.log(`dashboard: job ${jobId} seen ${[...seen].join(" -> ")}, log and audit shown` +
              (waitingId ? `; job ${waitingId}'s predicted start and the forecast shown` : ""));
} finally {
  await browser.close();
}
