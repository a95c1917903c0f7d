/* formflow citizen portal: progressive enhancement only (every page works without it). No inline script (CSP). */
(function () {
  "use strict";
  function csrf() { var m = document.querySelector('meta[name="csrf-token"]'); return m ? m.content : ""; }

  /* Re-render the step from the server as the citizen answers (conditions are decided on the server). */
  var form = document.getElementById("step-form");
  var pending = null;
  function refresh(focusName) {
    if (!form || !form.dataset.fragmentUrl) return;
    var body = new FormData(form);
    body.delete("_action");
    if (pending) pending.abort();
    pending = new AbortController();
    fetch(form.dataset.fragmentUrl, { method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf() }, signal: pending.signal })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var holder = document.getElementById("step-body");
        var files = holder.querySelectorAll('input[type="file"]');
        var kept = {};
        files.forEach(function (f) { if (f.files && f.files.length) kept[f.name] = f; });
        holder.innerHTML = html;
        Object.keys(kept).forEach(function (name) {
          var fresh = holder.querySelector('input[type="file"][name="' + CSS.escape(name) + '"]');
          if (fresh) fresh.replaceWith(kept[name]);
        });
        bindSignatures(holder);
        if (focusName) {
          var el = holder.querySelector('[name="' + CSS.escape(focusName) + '"]:checked') ||
                   holder.querySelector('[name="' + CSS.escape(focusName) + '"]:not([type=hidden])');
          if (el) el.focus();
        }
      })
      .catch(function () { /* offline or aborted: the plain POST still works */ });
  }
  if (form) {
    form.addEventListener("change", function (e) {
      var t = e.target;
      if (t && t.matches && t.matches("[data-condition]") && t.type !== "file") refresh(t.name);
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
      var drawing = false, drawn = false;
      function pos(e) {
        var r = canvas.getBoundingClientRect();
        return { x: (e.clientX - r.left) * canvas.width / r.width, y: (e.clientY - r.top) * canvas.height / r.height };
      }
      canvas.addEventListener("pointerdown", function (e) { drawing = true; var p = pos(e); ctx.beginPath(); ctx.moveTo(p.x, p.y); canvas.setPointerCapture(e.pointerId); });
      canvas.addEventListener("pointermove", function (e) { if (!drawing) return; var p = pos(e); ctx.lineTo(p.x, p.y); ctx.stroke(); drawn = true; });
      canvas.addEventListener("pointerup", function () { drawing = false; });
      box.querySelector("[data-signature-clear]").addEventListener("click", function () { ctx.clearRect(0, 0, canvas.width, canvas.height); drawn = false; });
      box.querySelector("[data-signature-save]").addEventListener("click", function () {
        if (!drawn) { alert("请先在签名区域内签名"); return; }
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
