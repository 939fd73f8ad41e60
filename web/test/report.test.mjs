// The twin's report.html in headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core), opened from disk with no network: every chart
// is drawn by the inlined uPlot (a canvas, or its "no data" message), the
// warnings head the page, the policies are compared, each site has its
// small multiples, and nothing on the page throws.
// The top of the report, the network charts and the small multiples are
// compared with their reference images in docs/images/ (same size, most of
// it alike: screenshot_compare.mjs); with $STARGATE_SCREENSHOTS set to a
// directory, the screenshots go there instead (bench/dashboard_screenshots.sh
// writes new references that way).
// Usage: node report.test.mjs REPORT_HTML EXPECTED_POLICY...
import { mkdirSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { expectLikeReference, launchChromium, references } from "./screenshot_compare.mjs";

const [report, ...policies] = process.argv.slice(2);
const fail = (msg) => { console.error(`FAIL: ${msg}`); process.exit(1); };

const browser = await launchChromium();
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // Self-contained: any request other than the file itself fails the test.
  const requests = [];
  await context.route("**/*", (route) => {
    if (!route.request().url().startsWith("file://")) requests.push(route.request().url());
    route.continue();
  });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(pathToFileURL(report).href);
  const charts = await page.$$eval("[data-chart]", (els) => els.length);
  if (charts < 4) fail(`only ${charts} chart places`);
  await page.waitForFunction(
    () => [...document.querySelectorAll("[data-chart]")].every((el) => el.querySelector("canvas") || el.classList.contains("empty")),
    null, { timeout: 15000 });
  const drawn = await page.$$eval("[data-chart] canvas", (els) => els.filter((c) => c.width > 100 && c.height > 50).length);
  if (drawn < charts - 2) fail(`${drawn} of ${charts} charts drew a canvas`);
  // The network lines: one per policy, named in uPlot's legend.
  const legend = await page.textContent('[data-chart="net-power"] .u-legend');
  for (const p of policies) if (!legend.includes(p)) fail(`network power legend lacks ${p}: ${legend}`);
  if (policies.length > 1) {
    for (const p of policies) if (!(await page.$(`#compare tr[data-policy="${p}"]`))) fail(`no comparison row for ${p}`);
    if (!(await page.$('[data-chart="policy-jct"] canvas'))) fail("no JCT comparison chart");
  }
  const warnings = await page.$eval("[data-warnings]", (el) => ({ n: +el.dataset.warnings, top: el.getBoundingClientRect().top }));
  const cards = await page.$eval(".cards", (el) => el.getBoundingClientRect().top);
  if (!(warnings.top < cards)) fail("the warnings are not above the headline cards");
  const multiples = await page.$$eval("#site-utilisation [data-chart] canvas", (els) => els.length);
  if (multiples < 2) fail(`${multiples} small multiples of utilisation`);
  if (errors.length) fail(`page errors: ${errors.join("; ")}`);
  if (requests.length) fail(`the report fetched ${requests.join(", ")}`);
  const shots = process.env.STARGATE_SCREENSHOTS;
  const pictures = [["report", null], ["report-network", "#network"], ["report-sites", "#site-utilisation"]];
  const take = (sel, path) => (sel ? page.locator(sel).screenshot({ path }) : page.screenshot({ path }));
  if (shots) {
    mkdirSync(shots, { recursive: true });
    for (const [name, sel] of pictures) await take(sel, `${shots}/${name}.png`);
  } else {
    const seen = [];
    for (const [name, sel] of pictures) {
      const r = await expectLikeReference(browser, await take(sel), `${references}/${name}.png`, fail);
      seen.push(`${name} ${(100 * r.alike).toFixed(0)}%`);
    }
    console.log(`screenshots like their references: ${seen.join(", ")}`);
  }
  console.log(`report: ${charts} charts drawn (${multiples} small multiples), ${warnings.n} warnings, policies ${policies.join(", ")}`);
} finally {
  await browser.close();
}
