// The Stargate dashboard: a world map of the sites, the last 24 h as
// charts (site power against cap, utilisation, queue depth, carbon, jobs
// started and finished per minute; GET /v1/history), sites, jobs (with
// their logs and predicted starts), the standing forecast, nodes and the
// audit trail of placement decisions, polled from the server's REST API
// every two seconds. Preact + htm as plain ES modules, uPlot for the
// charts, d3-geo over world-atlas's land (with topojson-client) for the
// map: npm packages, no build step.
import { h, render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import htm from "htm";
import uPlot from "uplot";

const html = htm.bind(h);
const POLL_MS = 2000;

// REST calls with the token the user entered (stored in this browser).
async function api(path) {
  const token = localStorage.getItem("stargate-token") || "";
  const res = await fetch(path, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  if (!res.ok) {
    let message = text;
    try { message = JSON.parse(text).error.message; } catch (e) { /* not JSON */ }
    throw new Error(`${path}: HTTP ${res.status}: ${message}`);
  }
  return res.headers.get("content-type")?.startsWith("application/json") ? JSON.parse(text) : text;
}

// GPU power per site from /metrics (what agents report through nvidia-smi).
function sitePower(metrics) {
  const out = {};
  for (const line of metrics.split("\n")) {
    const m = line.match(/^stargate_site_gpu_power_watts\{site="([^"]*)"\} (\S+)$/);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

function usePoll(load, every = POLL_MS) {
  const [state, setState] = useState({ data: null, error: null });
  useEffect(() => {
    let live = true;
    const tick = async () => {
      try {
        const data = await load();
        if (live) setState({ data, error: null });
      } catch (e) {
        if (live) setState((s) => ({ data: s.data, error: e.message }));
      }
    };
    tick();
    const timer = setInterval(tick, every);
    return () => { live = false; clearInterval(timer); };
  }, []);
  return state;
}

// Grid carbon as a colour: green (clean) to red (coal-heavy, ~700 g/kWh).
function carbonColour(g) {
  if (g === undefined) return "#8a93a6";
  const t = Math.max(0, Math.min(1, g / 700));
  return `hsl(${Math.round(130 * (1 - t))}, 60%, 42%)`;
}

// The world's land (world-atlas, 1:110m), fetched once.
let landPromise = null;
function useLand() {
  const [land, setLand] = useState(null);
  useEffect(() => {
    landPromise ||= fetch("/ui/vendor/world-atlas/land-110m.json")
      .then((r) => r.json())
      .then((topo) => window.topojson.feature(topo, topo.objects.land));
    landPromise.then(setLand).catch(() => setLand(null));
  }, []);
  return land;
}

// Sites on a Natural Earth projection of the world: colour by grid
// carbon, size by the facility draw the server reckons (docs/rest-api.md,
// GET /v1/sites). Only sites --sites placed.
// Past MAP_CLUSTER_AT placed sites (a decentralized network of thousands),
// sites in one CLUSTER_PX square of the map are drawn as one circle: its
// count, its summed draw, its draw-weighted carbon.
const MAP_W = 720, MAP_H = 370, MAP_CLUSTER_AT = 150, CLUSTER_PX = 24;
function clusterSites(placed, projection) {
  const cells = new Map();
  for (const s of placed) {
    const [x, y] = projection([s.longitude, s.latitude]);
    const key = `${Math.floor(x / CLUSTER_PX)},${Math.floor(y / CLUSTER_PX)}`;
    const c = cells.get(key) || { x: 0, y: 0, n: 0, w: 0, gw: 0, g: 0, gn: 0, names: [] };
    const w = s.facility_power_w || 0;
    c.x += x; c.y += y; c.n += 1; c.w += w;
    if (s.carbon_g_per_kwh !== undefined) { c.gw += w * s.carbon_g_per_kwh; c.g += s.carbon_g_per_kwh; c.gn += 1; }
    if (c.names.length < 3) c.names.push(s.name);
    cells.set(key, c);
  }
  return [...cells.values()].map((c) => ({
    x: c.x / c.n, y: c.y / c.n, n: c.n, w: c.w, names: c.names,
    carbon: c.gn === 0 ? undefined : Math.round(c.w > 0 ? c.gw / c.w : c.g / c.gn),
  }));
}
function SiteMap({ sites }) {
  const land = useLand();
  const projection = window.d3.geoNaturalEarth1().fitSize([MAP_W, MAP_H], { type: "Sphere" });
  const path = window.d3.geoPath(projection);
  const placed = sites.filter((s) => s.latitude !== undefined);
  if (placed.length > MAP_CLUSTER_AT) {
    const clusters = clusterSites(placed, projection);
    const maxC = Math.max(1, ...clusters.map((c) => c.w));
    return html`<svg id="map" data-map-clusters=${clusters.length} viewBox=${`0 0 ${MAP_W} ${MAP_H}`} preserveAspectRatio="xMidYMid meet">
      <path class="sphere" d=${path({ type: "Sphere" })} />
      ${land && html`<path class="land" d=${path(land)} />`}
      ${clusters.map((c) => {
        const r = 3 + 12 * Math.sqrt(c.w / maxC);
        return html`<g data-map-cluster=${c.n}>
          <title>${c.n} sites (${c.names.join(", ")}${c.n > c.names.length ? ", …" : ""}): ${(c.w / 1e3).toFixed(1)} kW, ${c.carbon ?? "?"} g/kWh</title>
          <circle cx=${c.x} cy=${c.y} r=${r} fill=${carbonColour(c.carbon)} fill-opacity="0.8" stroke="#fff" />
          ${c.n > 1 ? html`<text x=${c.x} y=${c.y + 4} font-size="10" text-anchor="middle">${c.n}</text>` : ""}
        </g>`;
      })}
    </svg>`;
  }
  const maxW = Math.max(1, ...placed.map((s) => s.facility_power_w || 0));
  return html`<svg id="map" viewBox=${`0 0 ${MAP_W} ${MAP_H}`} preserveAspectRatio="xMidYMid meet">
    <path class="sphere" d=${path({ type: "Sphere" })} />
    ${land && html`<path class="land" d=${path(land)} />`}
    ${placed.map((s) => {
      const [x, y] = projection([s.longitude, s.latitude]);
      const r = 3 + 12 * Math.sqrt((s.facility_power_w || 0) / maxW);
      return html`<g data-map-site=${s.name}>
        <title>${s.name}: ${((s.facility_power_w || 0) / 1e3).toFixed(1)} kW, ${s.carbon_g_per_kwh ?? "?"} g/kWh</title>
        <circle cx=${x} cy=${y} r=${r} fill=${carbonColour(s.carbon_g_per_kwh)} fill-opacity="0.8" stroke="#fff" />
        <text x=${x + r + 2} y=${y + 4} font-size="11">${s.name}</text>
      </g>`;
    })}
  </svg>`;
}

// One uPlot chart; made again when its series change, else fed new data.
const PALETTE = ["#2f6fde", "#d9534f", "#2a9d5c", "#e0a526", "#8e5ad1", "#1fa3a3", "#c25a98", "#6b7a8f"];
function Chart({ id, title, unit, series, data }) {
  const box = useRef(null);
  const plot = useRef(null);
  const key = series.map((s) => s.label).join("|");
  useEffect(() => {
    const opts = {
      title, width: 460, height: 200,
      series: [{}, ...series.map((s, i) => ({
        label: s.label, stroke: s.stroke || PALETTE[i % PALETTE.length], width: 1.5, dash: s.dash, spanGaps: true,
      }))],
      axes: [{}, { label: unit, size: 60 }],
      legend: { live: false },
    };
    plot.current = new uPlot(opts, data, box.current);
    return () => plot.current.destroy();
  }, [key]);
  useEffect(() => {
    plot.current?.setData(data, false);
    // At least the last hour across: a young server's few minutes read as minutes.
    const t = data[0];
    if (t.length) plot.current?.setScale("x", { min: Math.min(t[0], t[t.length - 1] - 3600), max: t[t.length - 1] });
  }, [data]);
  return html`<div class="panel" data-panel=${id} ref=${box}></div>`;
}

// The last 24 h (GET /v1/history), one chart per question an operator asks.
function Charts({ history }) {
  if (!history || history.t.length === 0) return html`<p id="charts">No history yet: the server samples once a minute.</p>`;
  const t = history.t;
  // The eight sites drawing most now: more lines would tangle.
  const last = (a) => a[a.length - 1] ?? 0;
  const names = Object.keys(history.sites)
    .sort((a, b) => last(history.sites[b].facility_w) - last(history.sites[a].facility_w)).slice(0, 8);
  const mw = (a) => a.map((v) => (v === null ? null : v / 1e6));
  const pct = (busy, devices) => busy.map((b, i) => (b === null || !devices[i] ? null : (100 * b) / devices[i]));
  const power = [], powerSeries = [];
  names.forEach((n, i) => {
    power.push(mw(history.sites[n].facility_w));
    powerSeries.push({ label: n, stroke: PALETTE[i % PALETTE.length] });
    if (history.sites[n].cap_w.some((v) => v !== null)) {
      power.push(mw(history.sites[n].cap_w));
      powerSeries.push({ label: `${n} cap`, stroke: PALETTE[i % PALETTE.length], dash: [6, 4] });
    }
  });
  return html`<div id="charts" class="charts">
    <${Chart} id="power" title="Site power against cap" unit="MW" series=${powerSeries} data=${[t, ...power]} />
    <${Chart} id="utilisation" title="Utilisation (devices busy)" unit="%"
      series=${[{ label: "all sites", stroke: "#222" }, ...names.map((n) => ({ label: n }))]}
      data=${[t, pct(history.total.busy, history.total.devices), ...names.map((n) => pct(history.sites[n].busy, history.sites[n].devices))]} />
    <${Chart} id="queue" title="Queue depth" unit="jobs"
      series=${[{ label: "pending" }, { label: "running" }]} data=${[t, history.jobs.pending, history.jobs.running]} />
    <${Chart} id="carbon" title="Grid carbon" unit="g/kWh"
      series=${[{ label: "by draw", stroke: "#222" }, ...names.map((n) => ({ label: n }))]}
      data=${[t, history.total.carbon_g_per_kwh, ...names.map((n) => history.sites[n].carbon_g_per_kwh)]} />
    <${Chart} id="throughput" title="Jobs per minute" unit="jobs/min"
      series=${[{ label: "started" }, { label: "finished" }]} data=${[t, history.jobs.started, history.jobs.finished]} />
  </div>`;
}

// At most SITE_CARDS cards, the sites drawing most first; the rest are on
// the map and in `stargate site list`.
const SITE_CARDS = 48;
function Sites({ sites, power }) {
  const shown = sites.length <= SITE_CARDS ? sites
    : [...sites].sort((a, b) => (power[b.name] || 0) - (power[a.name] || 0) || a.name.localeCompare(b.name)).slice(0, SITE_CARDS);
  return html`<${SiteMap} sites=${sites} /><div class="sites">${shown.map((s) => {
    const total = Object.values(s.accelerators || {}).reduce((a, b) => a + b, 0);
    const all = s.nodes || 0, up = s.nodes_alive || 0;
    return html`<div class="site" data-site=${s.name}>
      <h3>${s.name}</h3>
      <div>${s.region} · ${s.jurisdiction}</div>
      <div>nodes up ${up} / ${all}</div>
      <div class="bar"><div style=${`width:${all ? (100 * up) / all : 0}%`}></div></div>
      <div>accelerators ${Object.entries(s.accelerators || {}).map(([t, n]) => `${t}:${n}`).join(" ")} (${total})</div>
      <div>GPU power ${((power[s.name] || 0) / 1000).toFixed(1)} kW${s.power_cap_w ? html` · cap ${(s.power_cap_w / 1e6).toFixed(1)} MW` : ""}</div>
      ${s.power_cap_w ? html`<div class="bar" title="GPU power x PUE against the site's cap"><div style=${`width:${Math.min(100, (100 * (power[s.name] || 0) * (s.pue || 1)) / s.power_cap_w)}%`}></div></div>` : ""}
      <div style=${`color:${carbonColour(s.carbon_g_per_kwh)}`}>grid ${s.carbon_g_per_kwh !== undefined ? `${s.carbon_g_per_kwh} g/kWh` : "carbon unknown"}</div>
      <div>node-hours ${(s.node_hours || 0).toFixed(1)} · nodes lost ${s.failures || 0}</div>
    </div>`;
  })}</div>${shown.length < sites.length
    ? html`<p data-sites-more=${sites.length - shown.length}>… and ${sites.length - shown.length} more sites: <code>stargate site list</code>, or <code>--by region</code></p>` : ""}`;
}

// The tail of one rank's log, fetched again every two seconds (follow).
function Logs({ id, rank = 0 }) {
  const [text, setText] = useState("");
  useEffect(() => {
    let live = true;
    const load = async () => {
      try {
        const t = await api(`/v1/jobs/${id}/logs/${rank}`);
        if (live) setText(t.length > 8000 ? `…${t.slice(-8000)}` : t);
      } catch (e) {
        if (live) setText(e.message);
      }
    };
    load();
    const timer = setInterval(load, POLL_MS);
    return () => { live = false; clearInterval(timer); };
  }, [id, rank]);
  return html`<pre data-logs=${rank === 0 ? id : undefined} data-rank-log=${rank}>${text}</pre>`;
}

// One job: its ranks and where they run, its attempts, why it was placed
// (or moved, preempted, restarted: the audit trail), its predicted start
// or end, and each rank's log tail, followed.
function JobPage({ id, onClose }) {
  const view = usePoll(async () => {
    const [job, logs] = await Promise.all([api(`/v1/jobs/${id}`), api(`/v1/jobs/${id}/logs`)]);
    let audit = { entries: [] };
    try { audit = await api(`/v1/audit?job=${id}&limit=50`); } catch (e) { /* admins and all-tenant viewers only */ }
    return { job: job.job, logs, audit: audit.entries };
  });
  const [rank, setRank] = useState(null);
  const d = view.data;
  if (!d) return html`<div class="job-page" data-job-page=${id}>${view.error || ""}</div>`;
  const j = d.job;
  const shown = rank ?? (j.failed_rank !== undefined && j.state === "failed" ? j.failed_rank : 0);
  return html`<div class="job-page" data-job-page=${id}>
    <h3>job ${j.id} · ${j.name} · <span class=${`state-${j.state}`}>${j.state}</span>
      <button class="link close" onClick=${onClose}>close</button></h3>
    <p>${j.reason}</p>
    <p>tenant ${j.tenant} · ${j.nodes} × ${(j.accelerators || []).join("|")}:${j.per_node} · priority ${j.priority} ·
      attempt ${j.attempt} · restarts ${j.restarts} · estimate ${estimate(j)} · ${predicted(j)}</p>
    <table data-ranks>
      <tr><th>rank</th><th>node</th><th>attempt</th><th>log</th></tr>
      ${d.logs.logs.map((l) => html`<tr>
        <td>${l.rank}${j.failed_rank === l.rank ? " (failed the job)" : ""}</td><td>${l.node}</td><td>${l.attempt}</td>
        <td>${l.path ? html`<button class="link" onClick=${() => setRank(l.rank)}>${l.rank === shown ? "shown" : "show"}</button>` : "-"}</td>
      </tr>`)}
    </table>
    ${d.logs.logs.length > 0 && html`<${Logs} id=${id} rank=${shown} />`}
    <h4>Decisions</h4>
    <table data-job-audit>
      ${d.audit.slice().reverse().map((e) => html`<tr>
        <td>${new Date(e.unix_ms).toLocaleTimeString()}</td><td>${e.actor}</td><td>${e.action}</td><td>${e.detail}</td>
      </tr>`)}
    </table>
  </div>`;
}

// "in 1h05m" from the forecast's own time; null: past its horizon.
function inTime(ms, asOf) {
  if (ms === null || ms === undefined) return "beyond the forecast";
  const m = Math.max(0, Math.round((ms - asOf) / 60000));
  return m === 0 ? "now" : `in ${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

// A pending job's predicted start (a running one's end), from the
// server's standing forecast.
function predicted(j) {
  const f = j.forecast;
  if (!f) return "-";
  if (j.state === "pending") {
    return `starts ${inTime(f.start_unix_ms.p50, f.as_of_unix_ms)}${f.site ? ` at ${f.site}` : ""}`;
  }
  return `ends ${inTime(f.finish_unix_ms.p50, f.as_of_unix_ms)}`;
}

// "20m", "1h05m".
function span(s) {
  const m = Math.round(s / 60);
  return m < 60 ? `${m}m` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

// The run time the scheduler plans with and where it came from (the
// learned model, earlier runs, the file, the default), with the chance
// the job fails early; the full words on hover.
function estimate(j) {
  const e = j.estimate;
  if (!e) return "-";
  const planned = e.given === "file" ? e.file_s : e.predicted_s;
  if (planned === undefined) return e.given === "file" ? span(e.file_s) : "auto";
  const early = e.fail_early >= 0.05 ? `, ${Math.round(100 * e.fail_early)}% fail early` : "";
  return `${span(planned)} (${e.given === "file" ? "file" : e.source})${early}`;
}

function Jobs({ jobs }) {
  const [open, setOpen] = useState(null);
  return html`<table id="jobs">
    <tr><th>ID</th><th>name</th><th>tenant</th><th>state</th><th>nodes</th><th>attempt</th><th>restarts</th><th>reason</th><th>estimate</th><th>predicted</th><th></th></tr>
    ${jobs.map((j) => html`<tr data-job=${j.id}>
      <td>${j.id}</td><td>${j.name}</td><td>${j.tenant}</td>
      <td class=${`state-${j.state}`} data-state>${j.state}</td>
      <td>${(j.placement || []).join(" ") || "-"}</td><td>${j.attempt}</td><td>${j.restarts}</td>
      <td>${j.reason || ""}</td>
      <td data-estimate title=${(j.estimate && j.estimate.from) || ""}>${estimate(j)}</td>
      <td data-predicted>${predicted(j)}</td>
      <td><button class="link" onClick=${() => setOpen(open === j.id ? null : j.id)}>open</button></td>
    </tr>`)}
  </table>
  ${open !== null && html`<${JobPage} key=${open} id=${open} onClose=${() => setOpen(null)} />`}`;
}

// The standing forecast (GET /v1/forecast?latest=1): the next hours per site.
function Forecast({ forecast }) {
  if (!forecast) return html`<p id="forecast">No standing forecast yet (the server makes one every --forecast-interval).</p>`;
  const f = forecast;
  return html`<div id="forecast">
    <p>Made ${new Date(f.now_unix_ms).toLocaleTimeString()}, ${Math.round(f.horizon_s / 3600)} h ahead over
      ${f.seeds} seed(s) with the ${f.policy} policy: goodput ${f.goodput.toFixed(3)}, ${f.tco2.toFixed(3)} tCO2,
      ${f.useful_device_h.toFixed(1)} device-hours of work.</p>
    <table>
      <tr><th>site</th><th>devices</th><th>mean MW</th><th>peak MW</th><th>cap MW</th><th>utilisation</th><th>tCO2</th><th>node failures / year</th></tr>
      ${f.sites.map((s) => html`<tr data-forecast-site=${s.name}>
        <td>${s.name}</td><td>${s.accelerators}</td><td>${s.mean_mw.toFixed(4)}</td><td>${s.peak_mw.toFixed(4)}</td>
        <td>${s.power_cap_mw > 0 ? s.power_cap_mw.toFixed(3) : "-"}</td>
        <td>${(100 * s.utilisation).toFixed(0)}%</td><td>${s.tco2.toFixed(4)}</td>
        <td>${s.node_failures_per_year.toFixed(2)}</td>
      </tr>`)}
    </table>
  </div>`;
}

// The first NODE_ROWS nodes by name (GET /v1/nodes?limit=): a network of
// tens of thousands of nodes is read with `stargate node list`.
const NODE_ROWS = 200;
function Nodes({ nodes, total }) {
  return html`${total > nodes.length
    ? html`<p data-nodes-more=${total - nodes.length}>The first ${nodes.length} of ${total} nodes: <code>stargate node list --site S</code> for the rest.</p>` : ""}<table id="nodes">
    <tr><th>name</th><th>site</th><th>accelerators</th><th>state</th><th>CPU</th><th>heartbeat</th></tr>
    ${nodes.map((n) => html`<tr>
      <td>${n.name}</td><td>${n.site}</td><td>${n.accelerator}:${n.accelerators}</td>
      <td class=${n.alive ? "up" : "down"}>${n.alive ? "up" : "down"}</td>
      <td>${(100 * (n.cpu_utilisation || 0)).toFixed(0)}%</td>
      <td>${new Date(n.last_heartbeat_unix_ms).toLocaleTimeString()}</td>
    </tr>`)}
  </table>`;
}

function Audit({ entries }) {
  return html`<table id="audit">
    <tr><th>time</th><th>actor</th><th>action</th><th>job</th><th>detail</th></tr>
    ${entries.slice().reverse().map((e) => html`<tr>
      <td>${new Date(e.unix_ms).toLocaleTimeString()}</td><td>${e.actor}</td><td>${e.action}</td>
      <td>${e.job || ""}</td><td>${e.detail}</td>
    </tr>`)}
  </table>`;
}

function App() {
  const [token, setToken] = useState(localStorage.getItem("stargate-token") || "");
  const history = usePoll(() => api("/v1/history"), 10000);
  const view = usePoll(async () => {
    const [sites, nodes, jobs, metrics] = await Promise.all([
      api("/v1/sites"), api(`/v1/nodes?limit=${NODE_ROWS}`), api("/v1/jobs"), api("/metrics"),
    ]);
    let audit = { entries: [] };
    try { audit = await api("/v1/audit?limit=50"); } catch (e) { /* admins and all-tenant viewers only */ }
    let forecast = null;
    try { forecast = await api("/v1/forecast?latest=1"); } catch (e) { /* none made yet */ }
    return {
      sites: sites.sites, nodes: nodes.nodes, nodes_total: nodes.total ?? nodes.nodes.length, jobs: jobs.jobs, power: sitePower(metrics), audit: audit.entries, forecast,
    };
  });
  const d = view.data;
  return html`
    <header>
      <h1>Stargate</h1>
      <label>token <input type="password" value=${token}
        onChange=${(e) => { localStorage.setItem("stargate-token", e.target.value); setToken(e.target.value); }} /></label>
      ${view.error && html`<span class="error">${view.error}</span>`}
    </header>
    <main>
      ${d && html`
        <section><h2>The last 24 hours</h2><${Charts} history=${history.data} /></section>
        <section><h2>Sites</h2><${Sites} sites=${d.sites} power=${d.power} /></section>
        <section><h2>Jobs</h2><${Jobs} jobs=${d.jobs} /></section>
        <section><h2>Forecast</h2><${Forecast} forecast=${d.forecast} /></section>
        <section><h2>Nodes</h2><${Nodes} nodes=${d.nodes} total=${d.nodes_total} /></section>
        <section><h2>Placement decisions (audit)</h2><${Audit} entries=${d.audit} /></section>`}
    </main>`;
}

render(html`<${App} />`, document.getElementById("app"));
