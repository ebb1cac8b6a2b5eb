"use strict";
(function () {
  const init = detente.json("proposal-data");
  const verdict = document.getElementById("verdict");
  const body = document.querySelector("#votes tbody");
  const vetoes = document.getElementById("vetoes");
  const error = document.getElementById("proposal-error");
  const flip = document.getElementById("flip-search");
  let seq = 0;
  let timer = null;

  function terms() {
    const t = {};
    document.querySelectorAll("#sliders .slider[data-issue] input[type=range]").forEach(function (r) {
      t[r.name] = Number(r.value);
    });
    return t;
  }
  function show(d) {
    verdict.textContent = d.verdict;
    verdict.className = "verdict " + (d.passes ? "pass" : "blocked");
    body.innerHTML = "";
    for (const a of d.actors) {
      const veto = d.vetoes.some(function (v) { return v.actor === a.actor; });
      const word = a.accepts && !veto ? "accepts" : (veto ? "vetoes" : "objects");
      const tr = detente.el("tr", { "data-actor": a.actor, class: word }, [
        detente.el("td", { text: a.name }),
        detente.el("td", { class: "num", text: detente.fmt(a.gain, 3) }),
        detente.el("td", { class: word === "accepts" ? "yes" : "no", text: word }),
        detente.el("td", { text: (a.reasons || []).join("; ") }),
      ]);
      body.append(tr);
    }
    vetoes.innerHTML = "";
    for (const v of d.vetoes) {
      let text = v.actor + " vetoes";
      if (v.flip) {
        const ch = Object.entries(v.flip.terms || v.flip.changes || {}).map(function (kv) {
          return kv[0] + " → " + detente.fmt(kv[1], 1);
        }).join(", ");
        if (ch) text += "; smallest change that flips it: " + ch;
      }
      vetoes.append(detente.el("p", { class: "muted", text: text }));
    }
    for (const i of d.issues) {
      const n = document.querySelector('[data-label-for="' + CSS.escape(i.id) + '"]');
      if (n) n.textContent = i.label;
    }
  }
  async function evaluate() {
    const my = ++seq;
    const req = { scenario: init.scenario, terms: terms(),
      guarantee: Number(document.getElementById("guarantee").value),
      flip_grid: flip.checked ? 201 : 2 };
    try {
      const d = await detente.api("POST", "/api/proposals/evaluate", req);
      if (my !== seq) return;  // a newer request is on its way
      error.hidden = true;
      show(d);
    } catch (e) {
      if (my !== seq) return;
      error.hidden = false;
      error.textContent = e.message;
    }
  }
  function schedule() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(evaluate, 150);
  }
  document.querySelectorAll("#sliders input[type=range]").forEach(function (r) {
    r.addEventListener("input", function () {
      const out = r.parentElement.querySelector("output");
      if (out) out.textContent = Number(r.value).toFixed(2).replace(/\.?0+$/, "");
      schedule();
    });
  });
  flip.addEventListener("change", schedule);
  evaluate();
})();
