/* formflow citizen portal: progressive enhancement only (every page works without it). No inline script (CSP). */
(function () {
  "use strict";
  function csrf() { var m = document.querySelector('meta[name="csrf-token"]'); return m ? m.content : ""; }

  /* Re-render the step from the server as the citizen answers (conditions are decided on the server). */
  var form = document.getElementById("step-form");
  var pending = null;
  var holder = document.getElementById("step-body");

  /* What the citizen typed or ticked while the request was on its way must not be lost: the fresh
     fragment was rendered from the answers as they were when it was asked for. */
  function carryOver(from, to) {
    var live = {};
    from.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (el) {
      if (el.type === "file" || el.type === "hidden" || el.type === "submit") return;
      if (el.type === "radio" || el.type === "checkbox") {
        if (!(el.name in live)) live[el.name] = [];
        if (el.checked) live[el.name].push(el.value);
      } else {
        live[el.name] = el.value;
      }
    });
    to.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (el) {
      if (!(el.name in live)) return;
      var was = live[el.name];
      if (el.type === "radio" || el.type === "checkbox") el.checked = was.indexOf(el.value) >= 0;
      else if (el.type !== "file" && el.type !== "hidden") el.value = was;
    });
  }

  function refresh() {
    if (!form || !form.dataset.fragmentUrl || !holder) return;
    var body = new FormData(form);
    body.delete("_action");
    if (pending) pending.abort();
    var mine = pending = new AbortController();
    holder.setAttribute("aria-busy", "true");
    fetch(form.dataset.fragmentUrl, { method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf() }, signal: mine.signal })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html || pending !== mine) return;
        var fresh = document.createElement("div");
        fresh.innerHTML = html;
        carryOver(holder, fresh);
        var active = document.activeElement;
        var focusName = active && holder.contains(active) ? active.name : null;
        var focusValue = active && (active.type === "radio" || active.type === "checkbox") ? active.value : null;
        holder.querySelectorAll('input[type="file"]').forEach(function (f) {
          if (!f.files || !f.files.length) return;
          var spot = fresh.querySelector('input[type="file"][name="' + CSS.escape(f.name) + '"]');
          if (spot) spot.replaceWith(f);
        });
        var drawings = {};
        holder.querySelectorAll("[data-signature][data-drawn]").forEach(function (box) {
          drawings[box.dataset.field] = box.querySelector("canvas");
        });
        holder.replaceChildren.apply(holder, Array.prototype.slice.call(fresh.childNodes));
        bindSignatures(holder);
        Object.keys(drawings).forEach(function (name) {
          var box = holder.querySelector('[data-signature][data-field="' + CSS.escape(name) + '"]');
          var canvas = box && box.querySelector("canvas");
          if (!canvas || !canvas.getContext) return;
          canvas.getContext("2d").drawImage(drawings[name], 0, 0);
          box.dataset.drawn = "1";
        });
        if (focusName) {
          var selector = '[name="' + CSS.escape(focusName) + '"]' +
            (focusValue !== null ? '[value="' + CSS.escape(focusValue) + '"]' : ':not([type=hidden])');
          var el = holder.querySelector(selector);
          if (el) el.focus({ preventScroll: true });
        }
      })
      .catch(function () { /* offline or aborted: the plain POST still works */ })
      .then(function () { if (pending === mine) { pending = null; holder.removeAttribute("aria-busy"); } });
  }
  if (form) {
    form.addEventListener("change", function (e) {
      var t = e.target;
      if (t && t.matches && t.matches("[data-condition]") && t.type !== "file") refresh();
    });
    var once = false;
    form.addEventListener("submit", function (e) {
      if (once) { e.preventDefault(); return; }
      var submitter = e.submitter;
      if (submitter && submitter.value && submitter.value.indexOf("fetch:") === 0) return;
      once = true;
      setTimeout(function () { once = false; }, 4000);
    });
  }

  /* Submit forms marked data-once: a double click sends one request (the server is idempotent too). */
  document.querySelectorAll("form[data-once]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (f.dataset.sent) { e.preventDefault(); return; }
      f.dataset.sent = "1";
      f.querySelectorAll("button[type=submit]").forEach(function (b) { b.setAttribute("aria-disabled", "true"); });
    });
  });

  /* Signature canvas: draw, then post a PNG data URL. */
  function bindSignatures(root) {
    (root || document).querySelectorAll("[data-signature]").forEach(function (box) {
      if (box.dataset.bound) return;
      box.dataset.bound = "1";
      var canvas = box.querySelector("canvas");
      var actions = box.querySelector(".signature-actions");
      var input = box.querySelector('input[type="hidden"]');
      if (!canvas || !canvas.getContext) return;
      canvas.hidden = false; actions.hidden = false;
      var ctx = canvas.getContext("2d");
      ctx.lineWidth = 3; ctx.lineCap = "round"; ctx.strokeStyle = "#111";
      var drawing = false;
      function pos(e) {
        var r = canvas.getBoundingClientRect();
        return { x: (e.clientX - r.left) * canvas.width / r.width, y: (e.clientY - r.top) * canvas.height / r.height };
      }
      canvas.addEventListener("pointerdown", function (e) { drawing = true; var p = pos(e); ctx.beginPath(); ctx.moveTo(p.x, p.y); canvas.setPointerCapture(e.pointerId); });
      canvas.addEventListener("pointermove", function (e) { if (!drawing) return; var p = pos(e); ctx.lineTo(p.x, p.y); ctx.stroke(); box.dataset.drawn = "1"; });
      canvas.addEventListener("pointerup", function () { drawing = false; });
      box.querySelector("[data-signature-clear]").addEventListener("click", function () { ctx.clearRect(0, 0, canvas.width, canvas.height); delete box.dataset.drawn; });
      box.querySelector("[data-signature-save]").addEventListener("click", function () {
        if (!box.dataset.drawn) { alert("请先在签名区域内签名"); return; }
        var url = canvas.toDataURL("image/png");
        var body = new FormData();
        body.append("field", box.dataset.field);
        body.append("data_url", url);
        var version = document.getElementById("draft-version");
        if (version) body.append("_version", version.value);
        fetch(box.dataset.url, { method: "POST", body: body, credentials: "same-origin", headers: { "X-CSRFToken": csrf() } })
          .then(function (r) { return r.json(); })
          .then(function (res) {
            if (!res.ok) { alert(res.message); return; }
            if (version) version.value = res.version;
            input.value = url;
            var img = box.querySelector(".signature-image");
            if (!img) { img = document.createElement("img"); img.className = "signature-image"; img.alt = "已签名"; box.insertBefore(img, canvas); }
            img.src = url;
          });
      });
    });
  }
  bindSignatures(document);

  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
