// Fixed data for the dashboard's screenshot test: the last 24 h of three
// sites (GET /v1/history) and their places and draws (GET /v1/sites), so
// each panel and the map draw the same picture on every run and can be
// compared with their reference images in docs/images/. Pure functions of
// nothing: no clock, no randomness.

const T0 = 1796342400;  // 2026-12-03 00:00 UTC, a fixed day
const SITES = [
  { name: "oslo", latitude: 59.91, longitude: 10.75, carbon: 30, cap_w: 4e6, devices: 512, phase: 0 },
  { name: "paris", latitude: 48.86, longitude: 2.35, carbon: 56, cap_w: 6e6, devices: 768, phase: 2 },
  { name: "texas", latitude: 32.45, longitude: -99.73, carbon: 400, cap_w: 8e6, devices: 1024, phase: 4 },
];
const round = (v) => Math.round(v * 1000) / 1000;

export function historyFixture() {
  const n = 24 * 60;
  const t = [], pending = [], running = [], started = [], finished = [];
  const series = () => ({ facility_w: [], cap_w: [], busy: [], devices: [], carbon_g_per_kwh: [] });
  const total = series();
  const sites = Object.fromEntries(SITES.map((s) => [s.name, series()]));
  for (let i = 0; i < n; i++) {
    const day = Math.sin((2 * Math.PI * i) / n);
    t.push(T0 + 60 * i);
    pending.push(Math.round(20 + 15 * day));
    running.push(Math.round(60 + 20 * Math.cos((2 * Math.PI * i) / n)));
    started.push(i % 7);
    finished.push((i + 3) % 6);
    let w = 0, busy = 0, devices = 0, weighted = 0;
    for (const s of SITES) {
      const d = Math.sin((2 * Math.PI * (i + 60 * s.phase)) / n);
      const share = 0.55 + 0.35 * d;
      const site = sites[s.name];
      const draw = round(s.cap_w * (0.3 + 0.6 * share));
      const carbon = round(s.carbon * (1 + 0.3 * d));
      site.facility_w.push(draw);
      site.cap_w.push(s.cap_w);
      site.busy.push(Math.round(share * s.devices));
      site.devices.push(s.devices);
      site.carbon_g_per_kwh.push(carbon);
      w += draw; busy += Math.round(share * s.devices); devices += s.devices; weighted += draw * carbon;
    }
    total.facility_w.push(round(w));
    total.cap_w.push(SITES.reduce((a, s) => a + s.cap_w, 0));
    total.busy.push(busy);
    total.devices.push(devices);
    total.carbon_g_per_kwh.push(round(weighted / w));
  }
  return { every_s: 60, t, jobs: { pending, running, started, finished }, total, sites };
}

// The live /v1/sites answer's first site as a template, so the fixture
// keeps whatever fields the page reads.
export function sitesFixture(live) {
  const template = (live.sites || [])[0] || {};
  return { sites: SITES.map((s, i) => ({
    ...template,
    name: s.name,
    latitude: s.latitude,
    longitude: s.longitude,
    carbon_g_per_kwh: s.carbon,
    facility_power_w: s.cap_w * (0.4 + 0.2 * i),
    power_cap_w: s.cap_w,
  })) };
}
