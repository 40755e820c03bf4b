/* The review page of one render (gateway/review_page.c serves it). Every
   string shown comes from the data block and is set with textContent, never
   as markup. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("easel-data").textContent);
  var render = data.render;
  var shown = [];          /* images in grid order, for the viewer */
  var current = -1;
  var polling = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }
  /* "changed since": data.changes is the render's changes against the
     earlier render its link names (null when that render is gone) */
  function changeOf(id) {
    var list = (data.changes && data.changes.images) || [];
    for (var i = 0; i < list.length; i++) if (list[i].image === id) return list[i];
    return null;
  }
  function showChanges() {
    var sec = document.getElementById("changes-section");
    if (!data.since) { sec.hidden = true; return; }
    sec.hidden = false;
    var p = document.getElementById("changes-summary");
    if (!data.changes) {
      p.textContent = "The earlier render " + data.since + " is no longer available; nothing is marked.";
      return;
    }
    var s = data.changes.summary || {};
    p.textContent = "Against " + data.since + ": " + plural(s.changed || 0, "changed image") + ", " +
      (s["new"] || 0) + " new, " + (s.unchanged || 0) + " unchanged, " + (s.removed || 0) + " removed.";
  }
  function findingsOf(id) {
    var all = (render.lint && render.lint.findings) || [];
    return all.filter(function (f) { return f.image === id; });
  }
  function badge(sev, n) {
    var cls = sev === "error" ? "badge badge-error" : sev === "warning" ? "badge badge-warning" : "badge badge-info";
    var b = el("span", cls, plural(n, sev));
    b.setAttribute("data-severity", sev);
    return b;
  }
  function findingItem(f) {
    var li = el("li");
    var sev = f.severity || "info";
    li.appendChild(el("span", "badge badge-" + (sev === "error" ? "error" : sev === "warning" ? "warning" : "info"), sev));
    li.appendChild(el("span", "", (f.rule ? f.rule + ": " : "") + (f.message || "")));
    return li;
  }

  function showHeader() {
    document.title = "Review " + render.id + " · Easel";
    document.getElementById("render-id").textContent = render.id;
    var st = render.status;
    if (st === "processing" && render.progress)
      st += " (" + render.progress.done + " of " + render.progress.total + " images)";
    document.getElementById("status").textContent = st;
    var md = document.getElementById("metadata");
    md.textContent = "";
    Object.keys(render.metadata || {}).forEach(function (k) {
      var v = render.metadata[k];
      var d = el("div");
      d.appendChild(el("dt", "", k));
      d.appendChild(el("dd", "", typeof v === "string" ? v : JSON.stringify(v)));
      md.appendChild(d);
    });
    var final = render.status !== "processing";
    document.getElementById("archive-line").hidden = !final;
    document.getElementById("archive").setAttribute("href", data.urls.archive);
  }

  function showDecision() {
    var r = render.review || { status: "pending" };
    var p = document.getElementById("decision");
    var form = document.getElementById("decide-form");
    if (r.status === "pending") {
      p.textContent = render.status === "processing"
        ? "Waiting for the render to finish before it can be reviewed."
        : "Waiting for a decision.";
      form.hidden = render.status === "processing";
    } else {
      var what = r.status === "approved" ? "Approved" : "Changes requested";
      p.textContent = what + (r.by ? " by " + r.by : "") + (r.decided_at ? " at " + r.decided_at : "") +
        (r.comment ? ": \u201c" + r.comment + "\u201d" : "");
      p.setAttribute("data-status", r.status);
      form.hidden = true;
    }
  }

  function showSetFindings() {
    var ul = document.getElementById("set-findings");
    ul.textContent = "";
    var set = ((render.lint && render.lint.findings) || []).filter(function (f) { return !f.image; });
    if (!set.length) ul.appendChild(el("li", "", render.status === "processing"
      ? "Set-level checks run once the render is final." : "No findings about the whole set."));
    set.forEach(function (f) { ul.appendChild(findingItem(f)); });
  }

  function showGrid() {
    var grid = document.getElementById("grid");
    grid.textContent = "";
    shown = [];
    var locales = [], presets = [];
    render.images.forEach(function (im) {
      var l = im.locale || "(default)", p = im.preset || "(custom size)";
      if (locales.indexOf(l) < 0) locales.push(l);
      if (presets.indexOf(p) < 0) presets.push(p);
    });
    var head = el("div", "grid-row head");
    head.style.setProperty("--cols", presets.length);
    head.appendChild(el("div", "grid-head", "Locale"));
    presets.forEach(function (p) { head.appendChild(el("div", "grid-head", p)); });
    grid.appendChild(head);
    locales.forEach(function (l) {
      var row = el("div", "grid-row");
      row.style.setProperty("--cols", presets.length);
      row.setAttribute("data-locale", l);
      row.appendChild(el("div", "grid-head", l));
      presets.forEach(function (p) {
        var cell = el("div", "cell");
        cell.setAttribute("data-preset", p);
        cell.appendChild(el("span", "cell-label", p));
        render.images.forEach(function (im) {
          if ((im.locale || "(default)") !== l || (im.preset || "(custom size)") !== p) return;
          cell.appendChild(shot(im));
        });
        row.appendChild(cell);
      });
      grid.appendChild(row);
    });
  }

  function shot(im) {
    var fig = el("figure", "shot");
    fig.setAttribute("data-image", im.id || "");
    var label = "Slide " + (im.slide + 1) + ", " + (im.locale || "default locale") + ", " + (im.preset || "custom size");
    if (im.status === "succeeded" && im.url) {
      var index = shown.length;
      shown.push(im);
      var b = el("button", "thumb");
      b.type = "button";
      b.setAttribute("aria-label", "Open " + label);
      var img = el("img");
      img.loading = "lazy";
      img.decoding = "async";
      img.alt = label;
      img.width = 144;
      img.height = Math.round(144 * (im.height || 1) / (im.width || 1));
      img.src = im.url;
      b.appendChild(img);
      b.addEventListener("click", function () { openViewer(index); });
      fig.appendChild(b);
    } else {
      fig.appendChild(el("p", "failed", im.status === "failed"
        ? "Failed: " + ((im.error && im.error.message) || "unknown error") : "Rendering\u2026"));
    }
    var cap = el("figcaption");
    cap.appendChild(el("span", "", "Slide " + (im.slide + 1)));
    var ch = data.changes ? changeOf(im.id) : null;
    if (ch && (ch.status === "changed" || ch.status === "new")) {
      var mark = el("span", "badge badge-change", ch.status === "new" ? "new" :
        "changed" + (typeof ch.difference === "number" ? " " + Math.round(ch.difference * 100) + "%" : ""));
      mark.setAttribute("data-change", ch.status);
      cap.appendChild(mark);
      fig.setAttribute("data-change", ch.status);
    } else if (ch) fig.setAttribute("data-change", ch.status);
    var counts = { error: 0, warning: 0, info: 0 };
    findingsOf(im.id).forEach(function (f) { counts[f.severity] = (counts[f.severity] || 0) + 1; });
    ["error", "warning", "info"].forEach(function (s) { if (counts[s]) cap.appendChild(badge(s, counts[s])); });
    if (!counts.error && !counts.warning && im.status === "succeeded") {
      var ok = el("span", "badge badge-ok", "no issues");
      cap.appendChild(ok);
    }
    fig.appendChild(cap);
    return fig;
  }

  var viewer = document.getElementById("viewer");
  function openViewer(i) {
    if (!shown.length) return;
    current = (i + shown.length) % shown.length;
    var im = shown[current];
    var img = document.getElementById("viewer-img");
    img.src = im.url;
    img.alt = "Slide " + (im.slide + 1) + ", " + (im.locale || "default locale") + ", " + (im.preset || "custom size");
    document.getElementById("viewer-caption").textContent =
      img.alt + " (" + im.width + "\u00d7" + im.height + ") \u2014 " + (current + 1) + " of " + shown.length;
    var ul = document.getElementById("viewer-findings");
    ul.textContent = "";
    findingsOf(im.id).forEach(function (f) { ul.appendChild(findingItem(f)); });
    /* each finding that knows where it is gets an outline over the image */
    var frame = document.getElementById("viewer-frame");
    Array.prototype.slice.call(frame.querySelectorAll(".region")).forEach(function (n) { frame.removeChild(n); });
    findingsOf(im.id).forEach(function (f) {
      var r = f.region;
      if (!r || !im.width || !im.height) return;
      var box = el("div", "region region-" + (f.severity === "error" ? "error" : f.severity === "warning" ? "warning" : "info"));
      box.style.left = (100 * r.x / im.width) + "%";
      box.style.top = (100 * r.y / im.height) + "%";
      box.style.width = (100 * r.width / im.width) + "%";
      box.style.height = (100 * r.height / im.height) + "%";
      box.setAttribute("data-rule", f.rule || "");
      box.title = (f.rule ? f.rule + ": " : "") + (f.message || "");
      frame.appendChild(box);
    });
    if (!viewer.open) viewer.showModal();
  }
  document.getElementById("viewer-prev").addEventListener("click", function () { openViewer(current - 1); });
  document.getElementById("viewer-next").addEventListener("click", function () { openViewer(current + 1); });
  document.getElementById("viewer-close").addEventListener("click", function () { viewer.close(); });
  document.addEventListener("keydown", function (ev) {
    if (!viewer.open) return;
    if (ev.key === "ArrowRight") { openViewer(current + 1); ev.preventDefault(); }
    else if (ev.key === "ArrowLeft") { openViewer(current - 1); ev.preventDefault(); }
    else if (ev.key === "Escape") { viewer.close(); ev.preventDefault(); }
  });

  var form = document.getElementById("decide-form");
  form.setAttribute("action", data.urls.decide);
  if (data.by) {              /* the link names its reviewer: the decision is theirs */
    var byInput = document.getElementById("by");
    byInput.value = data.by;
    byInput.readOnly = true;
    byInput.hidden = true;
    document.querySelector("label[for=by]").hidden = true;
    var fixed = document.getElementById("by-fixed");
    fixed.textContent = "Deciding as " + data.by + " (named by this link).";
    fixed.hidden = false;
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var status = ev.submitter && ev.submitter.value ? ev.submitter.value : "approved";
    var body = new URLSearchParams();
    body.set("status", status);
    body.set("comment", document.getElementById("comment").value);
    body.set("by", document.getElementById("by").value);
    body.set("nonce", data.nonce);
    body.set("token", data.token);
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    var msg = document.getElementById("form-error");
    msg.textContent = "";
    fetch(data.urls.decide, { method: "POST", body: body, credentials: "omit",
                              headers: { "Accept": "application/json" } })
      .then(function (res) { return res.json().then(function (j) { return { status: res.status, body: j }; }); })
      .then(function (r) {
        if (r.status === 200) { render = r.body; refresh(); }
        else if (r.status === 409 && r.body.review) { render.review = r.body.review; refresh(); }
        else msg.textContent = (r.body.error && r.body.error.message) || ("The decision was not recorded (" + r.status + ").");
      })
      .catch(function () { msg.textContent = "The decision could not be sent; check the connection and try again."; })
      .then(function () { buttons.forEach(function (b) { b.disabled = false; }); });
  });

  function poll() {
    fetch(data.urls.status, { credentials: "omit", headers: { "Accept": "application/json" } })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (j) {
        if (j && j.id === render.id) {
          var changed = j.status !== render.status || (j.progress && render.progress && j.progress.done !== render.progress.done);
          render = j;
          if (changed) refresh();
        }
      })
      .catch(function () {})
      .then(function () { if (render.status === "processing") polling = setTimeout(poll, 2000); });
  }

  function refresh() {
    showHeader();
    showChanges();
    showDecision();
    showSetFindings();
    showGrid();
    document.body.setAttribute("data-ready", render.status);
  }
  refresh();
  if (render.status === "processing") polling = setTimeout(poll, 1000);
})();
