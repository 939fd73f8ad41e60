// End to end in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core): the dashboard loads, shows the sites and nodes, shows
// the submitted job, follows it to completion, opens its log, and shows
// the placement in the audit trail; its job page shows its ranks and why
// it was placed; a job waiting behind it shows its
// predicted start and the standing forecast its site; the world map draws
// the land and the site, and each chart panel of the last 24 h draws.
// Then, on a second page whose /v1/history and /v1/sites answers are fixed
// (fixtures.mjs), each panel and the map are compared with their
// reference image in docs/images/ (screenshot_compare.mjs). With
// $STARGATE_SCREENSHOTS set to a directory, those screenshots, the live
// job page and the live page go there instead
// (bench/dashboard_screenshots.sh writes new references that way).
// Usage: node dashboard.test.mjs URL JOB_ID EXPECTED_LOG_TEXT [WAITING_JOB_ID [RELEASE_FILE]]
import { mkdirSync, writeFileSync } from "node:fs";
import { historyFixture, sitesFixture } from "./fixtures.mjs";
import { expectLikeReference, launchChromium, references } from "./screenshot_compare.mjs";

const [url, jobId, logText, waitingId, releaseFile] = process.argv.slice(2);
const fail = (msg) => { console.error(`FAIL: ${msg}`); process.exit(1); };

const browser = await launchChromium();
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
    await page.locator(`[data-job-page="${jobId}"]`).screenshot({ path: `${shots}/dashboard-job.png` });
    await page.screenshot({ path: `${shots}/dashboard.png`, fullPage: true });
  }
  // The same page on fixed data, for pictures that repeat.
  const fixed = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: "UTC", locale: "en-US" });
  await fixed.route("**/v1/history", (route) => route.fulfill({ json: historyFixture() }));
  await fixed.route("**/v1/sites", async (route) => route.fulfill({ json: sitesFixture(await (await route.fetch()).json()) }));
  const still = await fixed.newPage();
  still.on("pageerror", (e) => errors.push(e.message));
  await still.goto(url);
  await still.waitForSelector('[data-map-site="texas"]', { timeout: 15000 });
  await still.waitForFunction(() => (document.querySelector("#map path.land")?.getAttribute("d") || "").length > 1000,
                              null, { timeout: 15000 });
  for (const p of panels) await still.waitForSelector(`[data-panel="${p}"] canvas`, { timeout: 15000 });
  await still.waitForTimeout(300);  // the last layout pass
  const pictures = [["map", "#map"], ...panels.map((p) => [p, `[data-panel="${p}"]`])];
  const seenLike = [];
  for (const [name, sel] of pictures) {
    const png = await still.locator(sel).screenshot({ path: shots ? `${shots}/dashboard-${name}.png` : undefined });
    if (shots) continue;
    const r = await expectLikeReference(browser, png, `${references}/dashboard-${name}.png`, fail);
    seenLike.push(`${name} ${(100 * r.alike).toFixed(0)}%`);
  }
  // A decentralized network: 2,000 sites and 50,000 nodes. The map draws
  // clusters, the page shows the 48 sites drawing most and the first 200
  // nodes, and says how many more there are.
  const many = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await many.route("**/v1/sites", async (route) => {
    const template = ((await (await route.fetch()).json()).sites || [])[0] || {};
    const sites = Array.from({ length: 2000 }, (_, i) => ({
      ...template, name: `edge-${String(i).padStart(4, "0")}`, region: `r${i % 17}`,
      latitude: -50 + ((i * 37) % 110), longitude: -170 + ((i * 53) % 340),
      carbon_g_per_kwh: 50 + ((i * 7) % 600), facility_power_w: 1e4 + ((i * 131) % 9000), nodes: 25, nodes_alive: 25,
    }));
    await route.fulfill({ json: { sites, total: sites.length } });
  });
  await many.route("**/v1/nodes*", async (route) => {
    const live = await (await route.fetch()).json();
    await route.fulfill({ json: { nodes: live.nodes, total: 50000 } });
  });
  const crowd = await many.newPage();
  crowd.on("pageerror", (e) => errors.push(e.message));
  await crowd.goto(url);
  await crowd.waitForSelector("#map[data-map-clusters]", { timeout: 15000 });
  const crowdSeen = await crowd.evaluate(() => ({
    clusters: Number(document.querySelector("#map").getAttribute("data-map-clusters")),
    inClusters: [...document.querySelectorAll("[data-map-cluster]")].reduce((a, g) => a + Number(g.getAttribute("data-map-cluster")), 0),
    sitesOnMap: document.querySelectorAll("[data-map-site]").length,
    cards: document.querySelectorAll("[data-site]").length,
    moreSites: document.querySelector("[data-sites-more]")?.getAttribute("data-sites-more"),
    moreNodes: document.querySelector("[data-nodes-more]")?.getAttribute("data-nodes-more"),
  }));
  if (!(crowdSeen.clusters > 10 && crowdSeen.clusters < 1000) || crowdSeen.inClusters !== 2000 || crowdSeen.sitesOnMap !== 0 ||
      crowdSeen.cards !== 48 || crowdSeen.moreSites !== "1952" || !(Number(crowdSeen.moreNodes) > 49000)) {
    fail(`2,000 sites: ${JSON.stringify(crowdSeen)}`);
  }
  console.log(`2,000 sites: ${crowdSeen.clusters} clusters on the map, 48 cards, ${crowdSeen.moreSites} more sites, ${crowdSeen.moreNodes} more nodes`);
  if (seenLike.length) console.log(`screenshots like their references: ${seenLike.join(", ")}`);
  if (errors.length) fail(`page errors: ${errors.join("; ")}`);
  console.log(`dashboard: job ${jobId} seen ${[...seen].join(" -> ")}, log and audit shown` +
              (waitingId ? `; job ${waitingId}'s predicted start and the forecast shown` : ""));
} finally {
  await browser.close();
}
