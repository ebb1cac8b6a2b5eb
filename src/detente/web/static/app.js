// Shared helpers of the dashboard (hand-written, no framework, no network beyond this server).
"use strict";
window.detente = (function () {
  async function api(method, url, body) {
    const opts = { method: method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const resp = await fetch(url, opts);
    let data = null;
    const text = await resp.text();
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = { detail: text }; }
    if (!resp.ok) {
      const err = new Error((data && data.detail) || ("HTTP " + resp.status));
      err.status = resp.status;
      err.data = data;
      throw err;
    }
    return data;
  }
  function el(tag, attrs, children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") e.textContent = v; else if (v !== null && v !== undefined) e.setAttribute(k, v);
    }
    for (const c of children || []) e.append(c);
    return e;
  }
  function fmt(v, d) {
    if (v === null || v === undefined || Number.isNaN(v)) return "–";
    return Number(v).toFixed(d === undefined ? 2 : d);
  }
  // Okabe-Ito first (the report's palette), then more distinct hues
  const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
    "#F0E442", "#8c564b", "#7f7f7f", "#bcbd22", "#17becf", "#9467bd", "#e377c2", "#2ca02c", "#d62728"];
  function color(i) { return PALETTE[i % PALETTE.length]; }
  function json(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  return { api: api, el: el, fmt: fmt, color: color, json: json };
})();
