// Reviewer desk enhancements (the pages work without this file; CSP forbids inline script).
(function () {
  "use strict";

  function liveOutcome(form) {
    var out = form.querySelector(".live-outcome");
    if (!out) return;
    var radios = form.querySelectorAll('input[type="radio"]');
    var names = {}, chosen = {};
    radios.forEach(function (r) { names[r.name] = true; if (r.checked) chosen[r.name] = r.value; });
    var total = Object.keys(names).length, done = Object.keys(chosen).length;
    var failed = Object.keys(chosen).some(function (n) { return chosen[n] === "fail"; });
    // The words come from the page (the catalogue, in the reader's language); {done} and {total} are filled in here.
    var text = out.getAttribute(failed ? "data-fail" : done === total ? "data-pass" : "data-open") || "";
    out.textContent = text.replace("{done}", String(done)).replace("{total}", String(total));
    form.querySelectorAll("fieldset.mrow").forEach(function (fs) {
      var fail = fs.querySelector('input[type="radio"][value="fail"]:checked');
      var note = fs.querySelector("textarea");
      if (note) note.required = !!fail;
    });
  }

  document.querySelectorAll("form.marking").forEach(function (form) {
    form.addEventListener("change", function () { liveOutcome(form); });
    liveOutcome(form);
  });

  document.querySelectorAll("button.all-pass").forEach(function (btn) {
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var form = document.getElementById(btn.getAttribute("data-form"));
      if (!form) return;
      // Rows about a material this application does not need are 不适用, never 符合.
      form.querySelectorAll("fieldset.mrow").forEach(function (fs) {
        var notApplicable = !!fs.querySelector('p.hint[id$="-na"]');
        fs.querySelectorAll('input[type="radio"][value="' + (notApplicable ? "na" : "pass") + '"]').forEach(function (r) {
          var group = fs.querySelectorAll('input[name="' + r.name + '"]:checked');
          if (!group.length || notApplicable) r.checked = true;
        });
      });
      liveOutcome(form);
    });
  });
})();
