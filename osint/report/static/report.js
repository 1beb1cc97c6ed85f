"use strict";
// The review report's behaviour: pages of candidates, blurred images, decisions and their export.
// Everything is built with textContent (never innerHTML) so names, URLs and comments cannot inject markup.
(function () {
  const D = JSON.parse(document.getElementById("report-data").textContent);
  const IMAGES = JSON.parse(document.getElementById("report-images").textContent);
  const STORE = "osint-report:" + D.case.id;
  const PAGE = D.page_size || 24;
  const persons = new Map(D.persons.map(p => [p.key, p]));
  const groupOf = new Map();              // item sha256 -> index of its duplicate group
  D.groups.forEach((g, i) => g.members.forEach(m => groupOf.set(m.item, i)));
  const saved = load();
  const state = {page: {cand: 0, dup: 0, loc: 0}, current: 0, shown: []};
  const made = saved.made || {};          // candidate id -> decision made in this browser
  const existing = new Map();             // candidate id -> [decisions already in the case]
  D.decisions.forEach(d => { if (!existing.has(d.candidate)) existing.set(d.candidate, []); existing.get(d.candidate).push(d); });

  function load() { try { return JSON.parse(localStorage.getItem(STORE) || "{}"); } catch (e) { return {}; } }
  function save() {
    try { localStorage.setItem(STORE, JSON.stringify({made: made, reviewer: reviewer.value, blur: blurBox.checked})); }
    catch (e) { /* storage may be disabled for file:// pages; decisions still export */ }
  }
  function el(tag, attrs, ...kids) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") n.className = v; else if (k === "text") n.textContent = v; else n.setAttribute(k, v);
    }
    kids.forEach(k => { if (k !== null && k !== undefined) n.append(k); });
    return n;
  }
  function img(key, cls, caption, alt) {
    const fig = el("figure", {class: cls});
    if (key && IMAGES[key]) {
      const box = el("span", {class: "sens", title: "click to reveal / hide"});
      const i = el("img", {alt: alt || caption, loading: "lazy", decoding: "async"});
      i.src = IMAGES[key];
      box.append(i);
      box.addEventListener("click", () => box.classList.toggle("shown"));
      fig.append(box);
    } else {
      fig.append(el("span", {class: "missing", text: "no image"}));
    }
    if (caption) fig.append(el("figcaption", {text: caption}));
    return fig;
  }
  function clock(t) {
    if (t === null || t === undefined) return "";
    const m = Math.floor(t / 60), s = (t - 60 * m).toFixed(1);
    return `${m}:${s.padStart(4, "0")}`;
  }
  function pct(x, bound) {
    if (x === null || x === undefined) return "not measured";
    const p = 100 * x;
    const text = p >= 1 ? p.toFixed(1) + "%" : p >= 0.01 ? p.toFixed(2) + "%" : p.toPrecision(2) + "%";
    const n = x > 0 ? Math.round(1 / x).toLocaleString("en") : "";
    if (bound) return `below ${text}: none of the ${n} different-person pairs measured scored this close`;
    return x > 0 ? `${text} of different-person pairs score this close or closer (1 in ${n})` : text;
  }
  function short(sha) { return sha ? sha.slice(0, 12) : ""; }
  function latest(id) {
    if (made[id]) return made[id];
    const list = existing.get(id);
    return list && list.length ? list[list.length - 1] : null;
  }

  // ---- pager --------------------------------------------------------------------------------------
  function pager(name, total, redraw) {
    const pages = Math.max(1, Math.ceil(total / PAGE));
    state.page[name] = Math.min(state.page[name], pages - 1);
    document.querySelectorAll(`.pager[data-for=${name}]`).forEach(span => {
      span.replaceChildren();
      const prev = el("button", {type: "button", text: "◀", title: "previous page (p)"});
      const next = el("button", {type: "button", text: "▶", title: "next page (n)"});
      prev.disabled = state.page[name] === 0; next.disabled = state.page[name] >= pages - 1;
      prev.onclick = () => { state.page[name]--; redraw(); };
      next.onclick = () => { state.page[name]++; redraw(); };
      span.append(prev, ` page ${state.page[name] + 1} of ${pages} (${total}) `, next);
    });
    return state.page[name] * PAGE;
  }

  // ---- candidates ---------------------------------------------------------------------------------
  const reviewer = document.getElementById("reviewer");
  const personFilter = document.getElementById("person-filter");
  const statusFilter = document.getElementById("status-filter");
  reviewer.value = saved.reviewer || "";
  reviewer.addEventListener("change", save);
  personFilter.append(el("option", {value: "", text: `all persons (${D.persons.length})`}));
  D.persons.forEach(p => personFilter.append(el("option", {value: p.key, text: p.name})));
  [personFilter, statusFilter].forEach(s => s.addEventListener("change", () => { state.page.cand = 0; drawCandidates(); }));

  function filtered() {
    const who = personFilter.value, status = statusFilter.value;
    return D.candidates.filter(c => {
      if (who && c.person !== who) return false;
      if (status === "all") return true;
      const d = latest(c.id);
      return status === "undecided" ? !d : d && d.decision === status;
    });
  }

  function card(c) {
    const p = persons.get(c.person) || {name: c.person};
    const where = c.media_type === "video"
      ? `video frame at ${clock(c.t)}` + (c.frame !== null && c.frame !== undefined ? ` (frame ${c.frame})` : "")
      : "photo";
    const box = el("article", {class: "card", tabindex: "0", "data-id": c.id});
    box.append(img(c.ref_crop, "crop", `reference: ${p.name}`, "reference face"),
               img(c.found_crop, "crop", `found: face ${c.face} (its number in the frame)`, "found face"),
               img(c.context, "context", `${where} · ${c.name || short(c.item)}`, "context"));
    const info = el("div", {class: "info"});
    const thr = c.threshold === null || c.threshold === undefined ? "" : ` · reported up to ${c.threshold.toFixed(3)}`;
    info.append(el("div", {class: "score", text: `distance ${c.distance.toFixed(3)}${thr} · model ${c.model}`}),
                el("div", {class: "fmr", text: "false-match rate at this distance: " + pct(c.fmr, c.fmr_bound) +
                  (c.population ? " (measured on " + c.population + ")" : "")}),
                el("div", {class: "verdict", text: "Candidate for human review, not an identification."}));
    if (c.track) info.append(el("div", {class: "track", text: c.track}));
    if (c.best_crops && c.best_crops.length > 1) {
      const strip = el("div", {class: "members"});
      c.best_crops.forEach(k => strip.append(img(k, "mini", "", "best frame")));
      info.append(strip);
    }
    if (c.ages) info.append(el("div", {class: "ages", text: c.ages}));
    (c.age_flags || []).forEach(f => info.append(el("div", {class: "verdict", text: "Age check: " + f})));
    if (c.photos) info.append(el("div", {text: `${c.agree} of ${c.photos} reference photo${c.photos === 1 ? "" : "s"} of ${p.name} within the threshold`}));
    if (c.low_quality) info.append(el("div", {class: "verdict", text: "Low-quality face (blurred, dark or tiny): below the quality the false-match rate was measured on, so the rate is less certain than stated."}));
    info.append(el("div", {class: "sha", title: `item SHA-256 ${c.item}`, text: `candidate ${c.id} · item ${short(c.item)}`}));
    if (groupOf.has(c.item)) {
      const g = groupOf.get(c.item);
      const link = el("a", {href: "#duplicates", text: `reposted: duplicate group ${g + 1} (${D.groups[g].members.length} items)`});
      link.onclick = () => { state.page.dup = Math.floor(g / PAGE); drawGroups(); };
      info.append(el("div", {}, link));
    }
    if (c.source_url) info.append(el("div", {class: "help", text: "collected from " + c.source_url}));
    if (c.post_url) {   // captured from the web: the post's date, link (as text: the report opens nothing) and text
      info.append(el("div", {class: "post-meta", text: `posted ${c.post_date ? c.post_date.replace("T", " ").replace("Z", " UTC") : "(no date on the page)"} · ${c.post_url}`}));
      if (c.post_text) info.append(el("blockquote", {class: "post-text", text: c.post_text}));
    }
    const decide = el("div", {class: "decide"});
    ["confirmed", "rejected", "unsure"].forEach(kind => {
      const b = el("button", {type: "button", class: kind, "data-decision": kind, text: `${kind} (${kind[0]})`});
      b.onclick = () => decideOn(c, kind);
      decide.append(b);
    });
    const comment = el("input", {class: "comment", placeholder: "comment (m)", "aria-label": "comment"});
    comment.value = made[c.id] ? made[c.id].comment : "";
    comment.addEventListener("change", () => { if (made[c.id]) { made[c.id].comment = comment.value; save(); } });
    decide.append(comment);
    const hist = el("ul", {class: "history"});
    (existing.get(c.id) || []).forEach(d => hist.append(el("li", {text: `${d.decision} by ${d.reviewer} at ${d.time}` + (d.comment ? `: ${d.comment}` : "")})));
    decide.append(hist);
    info.append(decide);
    box.append(info);
    paint(box, c);
    box.addEventListener("focus", () => { state.current = state.shown.indexOf(c); mark(); });
    return box;
  }

  function paint(box, c) {
    const d = latest(c.id);
    box.dataset.state = d ? d.decision : "";
    box.querySelectorAll(".decide button").forEach(b => b.classList.toggle("on", !!d && b.dataset.decision === d.decision));
  }

  function decideOn(c, kind) {
    const who = reviewer.value.trim();
    if (!who) { reviewer.focus(); reviewer.placeholder = "enter your name first"; return; }
    const box = document.querySelector(`.card[data-id="${c.id}"]`);
    const comment = box ? box.querySelector(".comment").value : "";
    made[c.id] = {candidate: c.id, decision: kind, reviewer: who, comment: comment, time: new Date().toISOString(),
                  person: c.person, item: c.item, face: c.face, t: c.t, distance: c.distance, model: c.model};
    save();
    if (box) paint(box, c);
    document.getElementById("made-count").textContent = Object.keys(made).length;
  }

  function drawCandidates() {
    const list = filtered();
    const start = pager("cand", list.length, drawCandidates);
    state.shown = list.slice(start, start + PAGE);
    const host = document.getElementById("cand-list");
    host.replaceChildren();
    let last = null;
    state.shown.forEach(c => {
      if (c.person !== last) {
        const p = persons.get(c.person) || {key: c.person, name: c.person, crops: []};
        const n = D.candidates.filter(x => x.person === c.person).length;
        const h = el("h3", {class: "person"}, `${p.name} · ${n} candidate${n === 1 ? "" : "s"}`);
        (p.crops || []).slice(0, 4).forEach(k => h.append(img(k, "thumb", "", "reference")));
        host.append(h);
        if (p.note) host.append(el("p", {class: "help", text: p.note}));
        last = c.person;
      }
      host.append(card(c));
    });
    if (!list.length) host.append(el("p", {class: "help", text: D.candidates.length ? "No candidate matches this filter." : "No match candidates in this case (run the face matching stage, or no face came within its threshold)."}));
    document.getElementById("cand-count").textContent = `(${D.candidates.length})`;
    state.current = Math.min(state.current, state.shown.length - 1);
    mark();
  }

  function mark() {
    document.querySelectorAll(".card.current").forEach(n => n.classList.remove("current"));
    const c = state.shown[state.current];
    const box = c && document.querySelector(`.card[data-id="${c.id}"]`);
    if (box) box.classList.add("current");
    return box;
  }

  function exportDecisions() {
    const doc = {format: "osint-review-decisions/1", case_id: D.case.id, case_name: D.case.name,
                 report_generated_at: D.generated_at, exported_at: new Date().toISOString(),
                 decisions: Object.values(made)};
    const text = JSON.stringify(doc, null, 2);
    const a = el("a", {download: `decisions-${D.case.name}-${(reviewer.value || "reviewer").replace(/[^A-Za-z0-9_-]+/g, "_")}.json`});
    a.href = URL.createObjectURL(new Blob([text], {type: "application/json"}));
    document.body.append(a); a.click(); a.remove();
    return text;
  }
  document.getElementById("export").onclick = exportDecisions;

  // ---- duplicates, map, custody -------------------------------------------------------------------
  function drawGroups() {
    const host = document.getElementById("dup-list");
    host.replaceChildren();
    const start = pager("dup", D.groups.length, drawGroups);
    D.groups.slice(start, start + PAGE).forEach((g, i) => {
      const box = el("div", {class: "group"});
      box.append(el("h3", {text: `Group ${start + i + 1}: ${g.members.length} items`}));
      const row = el("div", {class: "members"});
      g.members.forEach(m => row.append(img(m.thumb, "thumb", `${m.name || short(m.item)} (${short(m.item)})`, m.media_type)));
      box.append(row);
      const table = el("table", {}, el("tr", {}, ...["item", "item", "hash", "distance", "how"].map(t => el("th", {text: t}))));
      g.links.forEach(l => {
        const when = (t, sha) => t === null || t === undefined ? "" : ` · ${short(sha)} at ${clock(t)}`;
        const at = when(l.t_a, l.a) + when(l.t_b, l.b);
        const thr = l.threshold === null || l.threshold === undefined ? "" : ` of ≤ ${l.threshold}`;
        table.append(el("tr", {}, el("td", {class: "sha", text: short(l.a)}), el("td", {class: "sha", text: short(l.b)}),
          el("td", {text: l.algorithm}), el("td", {text: `${l.distance} ${l.unit}${thr}`}),
          el("td", {text: (l.transform === "identity" ? "as is" : l.transform) + at})));
      });
      box.append(table);
      host.append(box);
    });
    if (!D.groups.length) host.append(el("p", {class: "help", text: "No duplicate groups (run the hashing stage, or nothing is reposted)."}));
    document.getElementById("dup-count").textContent = `(${D.groups.length})`;
  }

  function drawLocated() {
    const body = document.querySelector("#loc-table tbody");
    body.replaceChildren();
    const start = pager("loc", D.located.length, drawLocated);
    D.located.slice(start, start + PAGE).forEach(l => body.append(el("tr", {},
      el("td", {}, img(l.thumb, "mini", `${l.name || ""} ${short(l.item)}`, "located photo")), el("td", {text: l.lat.toFixed(5)}),
      el("td", {text: l.lon.toFixed(5)}),
      el("td", {text: l.uncertainty_m === null || l.uncertainty_m === undefined ? "unknown" : `± ${Math.round(l.uncertainty_m)} m`}),
      el("td", {text: [l.method, ...(l.flags || [])].join("; ")}), el("td", {text: l.place || ""}))));
    document.getElementById("loc-count").textContent = `(${D.located.length})`;
    if (!D.located.length) document.getElementById("map-view").append(el("p", {class: "help", text: "No located items (run the geolocation stage, or no item carries a position)."}));
  }

  function drawKnown() {
    const body = document.querySelector("#known-table tbody");
    const known = D.known || [];
    known.forEach(k => body.append(el("tr", {},
      el("td", {}, img(k.thumb, "mini", `${k.name || ""} ${short(k.item)}`, "known item")), el("td", {text: k.list}),
      el("td", {text: k.label}), el("td", {text: k.source}),
      el("td", {text: k.by === "pdq" ? `PDQ ${k.distance} bits` :
                      k.by === "vpdq" ? `vPDQ (one video contains the other, frames within ${k.distance} bits)` :
                      `${k.by} (exact)`}))));
    document.getElementById("known-count").textContent = `(${known.length})`;
  }

  function drawCustody() {
    const host = document.getElementById("custody-view");
    const c = D.custody;
    if (!c) { host.append(el("p", {class: "help", text: "No custody summary."})); return; }
    host.append(el("p", {}, el("span", {class: c.chain_ok ? "good" : "bad", text: c.chain_ok ? "Chain intact" : "Chain BROKEN"}),
      ` · ${c.entries} entries from ${c.first} to ${c.last} · head `, el("code", {text: c.head})));
    c.chain_problems.forEach(p => host.append(el("p", {class: "bad", text: p})));
    host.append(el("p", {class: "help", text: "The chain was re-checked when this report was made; originals were not re-hashed (run `osint log verify` for that)."}));
    const counts = (title, obj) => el("table", {}, el("tr", {}, el("th", {text: title}), el("th", {text: "entries"})),
      ...Object.entries(obj).map(([k, v]) => el("tr", {}, el("td", {text: k}), el("td", {text: String(v)}))));
    host.append(counts("action", c.actions), counts("actor", c.actors));
    host.append(el("h3", {text: `Latest ${c.recent.length} entries`}));
    host.append(el("table", {}, el("tr", {}, ...["seq", "time (UTC)", "actor", "action", "what"].map(t => el("th", {text: t}))),
      ...c.recent.map(e => el("tr", {}, ...[e.seq, e.time, e.actor, e.action, e.what].map(v => el("td", {text: String(v)}))))));
  }

  // ---- settings and keys --------------------------------------------------------------------------
  const blurBox = document.getElementById("blur-setting");
  blurBox.checked = saved.blur === undefined ? D.blur : saved.blur;
  const applyBlur = () => { document.body.classList.toggle("blur", blurBox.checked); save(); };
  blurBox.addEventListener("change", applyBlur);

  document.addEventListener("keydown", ev => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") {
      if (ev.key === "Escape") ev.target.blur();
      return;
    }
    const c = state.shown[state.current];
    const go = delta => {
      state.current = Math.max(0, Math.min(state.shown.length - 1, state.current + delta));
      const box = mark(); if (box) box.scrollIntoView({block: "nearest"});
    };
    const keys = {
      j: () => go(1), k: () => go(-1),
      c: () => c && decideOn(c, "confirmed"), r: () => c && decideOn(c, "rejected"), u: () => c && decideOn(c, "unsure"),
      x: () => { const box = mark(); if (box) box.querySelectorAll(".sens").forEach(s => s.classList.toggle("shown")); },
      m: () => { const box = mark(); if (box) box.querySelector(".comment").focus(); },
      n: () => { state.page.cand++; state.current = 0; drawCandidates(); },
      p: () => { state.page.cand = Math.max(0, state.page.cand - 1); state.current = 0; drawCandidates(); },
      e: exportDecisions,
    };
    if (keys[ev.key]) { ev.preventDefault(); keys[ev.key](); }
  });

  D.notes.forEach(n => document.getElementById("notes").append(el("li", {text: n})));
  [...new Set(D.candidates.map(c => c.meaning).filter(Boolean))].forEach(m =>
    document.getElementById("meaning").append(el("p", {class: "help", text: "What the scores mean: " + m})));
  document.getElementById("made-count").textContent = Object.keys(made).length;
  applyBlur();
  drawCandidates(); drawGroups(); drawLocated(); drawKnown(); drawCustody();
  // For tests and scripts driving the page: the decisions made so far, as the exported JSON text.
  window.osintReport = {exportDecisions: exportDecisions, decided: () => Object.keys(made).length};
  document.body.dataset.ready = "1";
})();
