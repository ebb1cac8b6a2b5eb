// Interactive charts of a run, drawn as SVG by hand: positions by round (actor toggles,
// hover, wheel zoom, drag to pan), each model's forecast on the issue's scale, and the
// Monte Carlo histogram with its quantiles.
"use strict";
(function () {
  const run = detente.json("run-data");
  if (!run) return;
  const NS = "http://www.w3.org/2000/svg";
  const tip = document.getElementById("chart-tip");
  const hidden = new Set();
  const actorIndex = {};
  run.actors.forEach(function (a, k) { actorIndex[a.id] = k; });
  const issues = {};
  run.issues.forEach(function (i) { issues[i.id] = i; });

  function svg(tag, attrs, text) {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function showTip(ev, text) {
    tip.hidden = false;
    tip.textContent = text;
    tip.style.left = (ev.clientX + 12) + "px";
    tip.style.top = (ev.clientY + 12) + "px";
  }
  function hideTip() { tip.hidden = true; }

  const posModel = document.getElementById("pos-model");
  const posIssue = document.getElementById("pos-issue");
  for (const f of run.forecasts) posModel.append(detente.el("option", { value: f.model, text: f.model }));
  for (const i of run.issues) posIssue.append(detente.el("option", { value: i.id, text: i.name }));
  // start on the first round-based model, where positions move
  const moving = run.forecasts.find(function (f) {
    return Object.values(f.positions).some(function (g) { return g.length > 1; });
  });
  if (moving) posModel.value = moving.model;

  let view = null;  // current zoom window {x0, x1, y0, y1}

  function forecastOf(name) { return run.forecasts.find(function (f) { return f.model === name; }); }

  function drawForecasts() {
    const box = document.getElementById("forecast-chart");
    box.innerHTML = "";
    const issue = issues[posIssue.value];
    const W = 900, H = 46 + 22 * run.forecasts.length, L = 150, R = 30;
    const s = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img" });
    const x = function (v) { return L + (v - issue.scale_min) / (issue.scale_max - issue.scale_min) * (W - L - R); };
    s.append(svg("line", { x1: L, x2: W - R, y1: H - 24, y2: H - 24, stroke: "#999" }));
    for (const a of issue.anchors) {
      s.append(svg("line", { x1: x(a.value), x2: x(a.value), y1: 8, y2: H - 24, stroke: "#eee" }));
      s.append(svg("text", { x: x(a.value), y: H - 8, "font-size": 10, "text-anchor": "middle", fill: "#555" }, String(a.value)));
    }
    run.forecasts.forEach(function (f, k) {
      const y = 18 + 22 * k;
      const v = f.outcome[issue.id];
      s.append(svg("text", { x: L - 8, y: y + 4, "font-size": 12, "text-anchor": "end" }, f.model));
      if (v === null || v === undefined) return;
      const dot = svg("circle", { cx: x(v), cy: y, r: 6, fill: detente.color(k), class: "forecast-dot",
        "data-model": f.model, "data-value": v });
      dot.addEventListener("mousemove", function (ev) {
        showTip(ev, f.model + ": " + detente.fmt(v) + (f.label[issue.id] ? " (" + f.label[issue.id] + ")" : ""));
      });
      dot.addEventListener("mouseleave", hideTip);
      s.append(dot);
      s.append(svg("text", { x: x(v) + 9, y: y + 4, "font-size": 11, fill: "#333" }, detente.fmt(v, 1)));
    });
    box.append(s);
  }

  function drawPositions() {
    const box = document.getElementById("positions-chart");
    box.innerHTML = "";
    const f = forecastOf(posModel.value);
    const issue = issues[posIssue.value];
    const grid = (f && f.positions[issue.id]) || [];
    const nR = Math.max(grid.length - 1, 1);
    const full = { x0: 0, x1: nR, y0: issue.scale_min, y1: issue.scale_max };
    const v = view || full;
    const W = 900, H = 380, L = 60, R = 150, T = 14, B = 36;
    const s = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", id: "positions-svg" });
    const sx = function (r) { return L + (r - v.x0) / (v.x1 - v.x0) * (W - L - R); };
    const sy = function (p) { return H - B - (p - v.y0) / (v.y1 - v.y0) * (H - T - B); };
    const clip = svg("clipPath", { id: "plot-clip" });
    clip.append(svg("rect", { x: L, y: T, width: W - L - R, height: H - T - B }));
    s.append(clip);
    // axes and ticks
    s.append(svg("rect", { x: L, y: T, width: W - L - R, height: H - T - B, fill: "none", stroke: "#ccc" }));
    for (let k = 0; k <= 5; k++) {
      const p = v.y0 + (v.y1 - v.y0) * k / 5;
      s.append(svg("line", { x1: L, x2: W - R, y1: sy(p), y2: sy(p), stroke: "#f0f0f0" }));
      s.append(svg("text", { x: L - 6, y: sy(p) + 4, "font-size": 11, "text-anchor": "end" }, detente.fmt(p, 1)));
    }
    const step = Math.max(1, Math.ceil((v.x1 - v.x0) / 12));
    for (let r = Math.ceil(v.x0); r <= v.x1; r += step) {
      s.append(svg("text", { x: sx(r), y: H - B + 16, "font-size": 11, "text-anchor": "middle" }, String(r)));
    }
    s.append(svg("text", { x: (L + W - R) / 2, y: H - 4, "font-size": 12, "text-anchor": "middle" }, "round"));
    const g = svg("g", { "clip-path": "url(#plot-clip)" });
    const out = f ? f.outcome[issue.id] : null;
    if (out !== null && out !== undefined) {
      g.append(svg("line", { x1: L, x2: W - R, y1: sy(out), y2: sy(out), stroke: "#333", "stroke-dasharray": "5 4" }));
    }
    const labels = [];
    run.actors.forEach(function (a, k) {
      if (hidden.has(a.id)) return;
      const pts = [];
      grid.forEach(function (row, r) {
        const p = row[k];
        if (p !== null && p !== undefined) pts.push([r, p]);
      });
      if (!pts.length) return;
      if (pts.length === 1) pts.push([nR, pts[0][1]]);  // closed-form: a flat line
      const d = pts.map(function (q, i) { return (i ? "L" : "M") + sx(q[0]).toFixed(1) + "," + sy(q[1]).toFixed(1); }).join("");
      const path = svg("path", { d: d, fill: "none", stroke: detente.color(k), "stroke-width": 2, class: "actor-line", "data-actor": a.id });
      g.append(path);
      for (const q of pts) {
        const c = svg("circle", { cx: sx(q[0]), cy: sy(q[1]), r: 3.5, fill: detente.color(k) });
        c.addEventListener("mousemove", function (ev) {
          showTip(ev, a.name + " — round " + q[0] + ": " + detente.fmt(q[1]));
        });
        c.addEventListener("mouseleave", hideTip);
        g.append(c);
      }
      labels.push([sy(pts[pts.length - 1][1]), a.name, detente.color(k)]);
    });
    s.append(g);
    labels.sort(function (p, q) { return p[0] - q[0]; });
    let last = -1e9;
    for (const lb of labels) {
      const y = Math.max(lb[0], last + 12);
      last = y;
      s.append(svg("text", { x: W - R + 6, y: y + 4, "font-size": 11, fill: lb[2] }, lb[1]));
    }
    // zoom (wheel) and pan (drag)
    s.addEventListener("wheel", function (ev) {
      ev.preventDefault();
      const rect = s.getBoundingClientRect();
      const fx = ((ev.clientX - rect.left) / rect.width * W - L) / (W - L - R);
      const fy = 1 - ((ev.clientY - rect.top) / rect.height * H - T) / (H - T - B);
      const k = ev.deltaY < 0 ? 0.8 : 1.25;
      const cx = v.x0 + fx * (v.x1 - v.x0), cy = v.y0 + fy * (v.y1 - v.y0);
      view = { x0: cx - (cx - v.x0) * k, x1: cx + (v.x1 - cx) * k, y0: cy - (cy - v.y0) * k, y1: cy + (v.y1 - cy) * k };
      drawPositions();
    }, { passive: false });
    let drag = null;
    s.addEventListener("mousedown", function (ev) { drag = { x: ev.clientX, y: ev.clientY, v: Object.assign({}, v) }; });
    window.addEventListener("mouseup", function () { drag = null; }, { once: true });
    s.addEventListener("mousemove", function (ev) {
      if (!drag || ev.buttons !== 1) return;
      const rect = s.getBoundingClientRect();
      const dx = (ev.clientX - drag.x) / rect.width * W / (W - L - R) * (drag.v.x1 - drag.v.x0);
      const dy = (ev.clientY - drag.y) / rect.height * H / (H - T - B) * (drag.v.y1 - drag.v.y0);
      view = { x0: drag.v.x0 - dx, x1: drag.v.x1 - dx, y0: drag.v.y0 + dy, y1: drag.v.y1 + dy };
      drawPositions();
    });
    s.addEventListener("dblclick", function () { view = null; drawPositions(); });
    box.append(s);
  }

  function drawToggles() {
    const box = document.getElementById("actor-toggles");
    box.innerHTML = "";
    run.actors.forEach(function (a, k) {
      const cb = detente.el("input", { type: "checkbox", "data-actor": a.id });
      cb.checked = !hidden.has(a.id);
      cb.addEventListener("change", function () {
        if (cb.checked) hidden.delete(a.id); else hidden.add(a.id);
        drawPositions();
      });
      const sw = detente.el("span", { class: "swatch", style: "background:" + detente.color(k) });
      box.append(detente.el("label", {}, [cb, sw, a.name]));
    });
  }

  // Monte Carlo histogram
  const mc = run.montecarlo;
  const mcModel = document.getElementById("mc-model");
  if (mc && mcModel) {
    for (const m of mc.models) mcModel.append(detente.el("option", { value: m, text: m }));
    mcModel.addEventListener("change", drawMC);
  }
  function drawMC() {
    if (!mc || !mcModel) return;
    const box = document.getElementById("mc-chart");
    box.innerHTML = "";
    const issue = issues[posIssue.value];
    const h = (mc.histograms[mcModel.value] || {})[issue.id];
    const row = (mc.summary || []).find(function (r) { return r.model === mcModel.value && r.issue === issue.id; });
    const info = document.getElementById("mc-info");
    info.textContent = row && row.n ? (row.n + " draws; median " + detente.fmt(row.q50, 1) + ", 90% between " +
      detente.fmt(row.q05, 1) + " and " + detente.fmt(row.q95, 1)) : "no draws";
    if (!h) return;
    const W = 900, H = 240, L = 50, R = 20, T = 10, B = 30;
    const s = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", id: "mc-svg" });
    const max = Math.max.apply(null, h.counts.concat([1]));
    const sx = function (v) { return L + (v - issue.scale_min) / (issue.scale_max - issue.scale_min) * (W - L - R); };
    const sy = function (c) { return H - B - c / max * (H - T - B); };
    h.counts.forEach(function (c, k) {
      const x0 = sx(h.edges[k]), x1 = sx(h.edges[k + 1]);
      const bar = svg("rect", { x: x0 + 0.5, y: sy(c), width: Math.max(x1 - x0 - 1, 0.5), height: H - B - sy(c), fill: "#56B4E9", class: "mc-bar" });
      bar.addEventListener("mousemove", function (ev) {
        showTip(ev, detente.fmt(h.edges[k], 1) + "–" + detente.fmt(h.edges[k + 1], 1) + ": " + c + " draws");
      });
      bar.addEventListener("mouseleave", hideTip);
      s.append(bar);
    });
    if (row && row.n) {
      for (const [q, dash] of [["q05", "3 3"], ["q50", ""], ["q95", "3 3"]]) {
        s.append(svg("line", { x1: sx(row[q]), x2: sx(row[q]), y1: T, y2: H - B, stroke: "#D55E00", "stroke-dasharray": dash }));
      }
      if (row.point !== undefined && row.point !== null) {
        s.append(svg("circle", { cx: sx(row.point), cy: H - B, r: 5, fill: "#000" }));
      }
    }
    s.append(svg("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, stroke: "#999" }));
    for (let k = 0; k <= 4; k++) {
      const v = issue.scale_min + (issue.scale_max - issue.scale_min) * k / 4;
      s.append(svg("text", { x: sx(v), y: H - 10, "font-size": 11, "text-anchor": "middle" }, detente.fmt(v, 0)));
    }
    box.append(s);
  }

  function redraw() { view = null; drawForecasts(); drawPositions(); drawMC(); }
  posModel.addEventListener("change", function () { view = null; drawPositions(); });
  posIssue.addEventListener("change", redraw);
  document.getElementById("pos-reset").addEventListener("click", function () { view = null; drawPositions(); });
  drawToggles();
  redraw();
})();
