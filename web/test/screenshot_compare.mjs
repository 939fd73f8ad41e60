// Compares a screenshot with its reference image (docs/images/), in the
// browser itself (no image library from npm): both are drawn on canvases
// and cut into 16x16-pixel blocks; a block matches when its mean colour
// differs by less than 24 (of 255) per channel on average, and only
// blocks with ink (not near-white) in either image count. The tests draw
// on fixed data, so a picture repeats; the slack is for font hinting and
// anti-aliasing. Calibrated on this repository's pictures: the same panel
// redrawn is 100% alike, two different panels at most 86%.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

// Where the reference pictures live: docs/images/ of this repository.
export const references = fileURLToPath(new URL("../../docs/images/", import.meta.url));

// Debian's Chromium, headless, as both browser tests drive it.
export function launchChromium() {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
}

export const kBlock = 16;

export async function compareWithReference(browser, actualPng, referencePath) {
  const reference = readFileSync(referencePath);
  const page = await browser.newPage();
  try {
    return await page.evaluate(async ([a, b, block]) => {
      const load = (b64) => new Promise((ok, bad) => {
        const img = new Image();
        img.onload = () => ok(img);
        img.onerror = () => bad(new Error("not an image"));
        img.src = `data:image/png;base64,${b64}`;
      });
      const [ia, ib] = await Promise.all([load(a), load(b)]);
      const size = { actual: [ia.width, ia.height], reference: [ib.width, ib.height] };
      const w = Math.min(ia.width, ib.width), h = Math.min(ia.height, ib.height);
      const pixels = (img) => {
        const c = document.createElement("canvas");
        c.width = w; c.height = h;
        const g = c.getContext("2d");
        g.drawImage(img, 0, 0);
        return g.getImageData(0, 0, w, h).data;
      };
      const pa = pixels(ia), pb = pixels(ib);
      let blocks = 0, alike = 0;
      for (let by = 0; by + block <= h; by += block) {
        for (let bx = 0; bx + block <= w; bx += block) {
          const sum = [0, 0, 0, 0, 0, 0];
          for (let y = by; y < by + block; y++) {
            for (let x = bx; x < bx + block; x++) {
              const i = (y * w + x) * 4;
              for (let k = 0; k < 3; k++) { sum[k] += pa[i + k]; sum[3 + k] += pb[i + k]; }
            }
          }
          const n = block * block;
          const diff = (Math.abs(sum[0] - sum[3]) + Math.abs(sum[1] - sum[4]) + Math.abs(sum[2] - sum[5])) / (3 * n);
          // Only blocks with ink in either image count: a mostly white
          // panel must not pass on its background alone.
          const ink = (s) => (s[0] + s[1] + s[2]) / (3 * n) < 248;
          if (!ink(sum.slice(0, 3)) && !ink(sum.slice(3))) continue;
          blocks++;
          if (diff < 24) alike++;
        }
      }
      return { size, alike: blocks ? alike / blocks : 0 };
    }, [actualPng.toString("base64"), reference.toString("base64"), kBlock]);
  } finally {
    await page.close();
  }
}

// Fails (through `fail`) unless the screenshot has the reference's size
// within `slack` pixels and at least `share` of its blocks alike.
export async function expectLikeReference(browser, actualPng, referencePath, fail, { slack = 4, share = 0.97 } = {}) {
  const r = await compareWithReference(browser, actualPng, referencePath);
  const [aw, ah] = r.size.actual, [rw, rh] = r.size.reference;
  if (Math.abs(aw - rw) > slack || Math.abs(ah - rh) > slack) {
    fail(`${referencePath}: the screenshot is ${aw}x${ah}, the reference ${rw}x${rh}`);
  }
  if (r.alike < share) {
    fail(`${referencePath}: only ${(100 * r.alike).toFixed(1)}% of the screenshot looks like the reference (need ${100 * share}%)`);
  }
  return r;
}
