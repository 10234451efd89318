// Tune or Prompt: the little the page needs beyond htmx. Loaded from /static because the page's
// CSP allows no inline script and no eval. Without JavaScript the form still submits as a GET.
(function () {
  "use strict";

  // A log slider carries log10(volume); its number field, which has the name, the volume.
  // Two significant figures keep a dragged value readable (41,687 -> 42,000).
  function roundTwoFigures(v) {
    if (!(v > 0)) return 0;
    var unit = Math.pow(10, Math.floor(Math.log10(v)) - 1);
    return Math.round(v / unit) * unit;
  }

  function sliderToField(slider) {
    var field = document.getElementById(slider.dataset.pair);
    if (!field) return;
    var v = parseFloat(slider.value);
    field.value = slider.dataset.scale === "log" ? String(roundTwoFigures(Math.pow(10, v))) : slider.value;
  }

  // Numbers as people type them: "2,000,000", "2M", "1.5k", "60%" (rates). The server reads
  // them the same way (app/web/form.py humane_number) and says what it read under the field;
  // here they only move the paired slider. NaN for anything else.
  function humaneNumber(text, unit) {
    var t = String(text).trim().replace(/_/g, "").toLowerCase();
    var power = 0;
    if (t.slice(-1) === "%") {
      if (!/^fraction/.test(unit || "")) return NaN;
      power = -2; t = t.slice(0, -1).trim();
    } else {
      var m = /^(.*?)\s*(thousand|million|billion|bn|k|m|b)$/.exec(t);
      if (m && m[1] !== "") { t = m[1]; power = { thousand: 3, k: 3, million: 6, m: 6, billion: 9, bn: 9, b: 9 }[m[2]]; }
    }
    t = t.replace(/^\$/, "");
    if (t.indexOf(",") >= 0) {
      if (!/^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$/.test(t)) return NaN;
      t = t.replace(/,/g, "");
    }
    if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) return NaN;
    return parseFloat(t) * Math.pow(10, power);
  }

  // The value in the field's unit, for aria-valuetext: "110,000 queries a month", "5% a
  // month". app/web/pages.py value_text says the same for the first render.
  function valueText(v, unit) {
    if (!isFinite(v)) return "";
    unit = unit || "";
    if (/^fraction/.test(unit)) {
      var tail = unit.replace(/^fraction\s*/, "");
      if (tail === "per month") tail = "a month";
      return (Math.round(v * 100 * 1000) / 1000) + "%" + (tail ? " " + tail : "");
    }
    var words = { "queries/month": "queries a month", "USD/month": "USD a month" };
    var number = Number.isInteger(v) ? v.toLocaleString("en-US") : v.toLocaleString("en-US", { maximumSignificantDigits: 6 });
    return number + " " + (words[unit] || unit);
  }

  function setValueText(slider, field) {
    var v = humaneNumber(field.value, slider.dataset.unit);
    if (isFinite(v)) slider.setAttribute("aria-valuetext", valueText(v, slider.dataset.unit));
  }

  function fieldToSlider(field) {
    var slider = document.getElementById(field.id + "-slider");
    if (!slider) return;
    var v = humaneNumber(field.value, slider.dataset.unit);
    if (!isFinite(v)) return; // leave the slider where it was; the server marks the field
    if (slider.dataset.scale === "log") {
      slider.value = v > 0 ? String(Math.log10(v)) : slider.min;
    } else {
      slider.value = String(v);
    }
    setValueText(slider, field);
  }

  // Arrow keys on the log slider step to the next two-figure value (110,000 -> 120,000): a
  // raw step of 0.01 in log10 is often rounded back to the same two figures, so a key press
  // would show no change.
  function nextTwoFigures(v, direction) {
    if (!(v > 0)) return direction > 0 ? 100 : 0;
    var unit = Math.pow(10, Math.floor(Math.log10(v)) - 1);
    var n = Math.round(v / unit);
    if (direction < 0 && n <= 10) { unit /= 10; n = Math.round(v / unit); }
    return (n + direction) * unit;
  }
  document.addEventListener("keydown", function (e) {
    var slider = e.target;
    if (!(slider instanceof HTMLInputElement) || !slider.classList.contains("slider")) return;
    if (slider.dataset.scale !== "log") return;
    var direction = { ArrowUp: 1, ArrowRight: 1, ArrowDown: -1, ArrowLeft: -1 }[e.key];
    if (!direction) return;
    var field = document.getElementById(slider.dataset.pair);
    if (!field) return;
    e.preventDefault();
    var current = humaneNumber(field.value, slider.dataset.unit);
    if (!isFinite(current)) current = Math.pow(10, parseFloat(slider.value));
    var lo = Math.pow(10, parseFloat(slider.min));
    var hi = Math.pow(10, parseFloat(slider.max));
    var next = Math.min(hi, Math.max(lo, nextTwoFigures(current, direction)));
    next = parseFloat(next.toPrecision(12));
    field.value = String(next);
    slider.value = String(Math.log10(next));
    setValueText(slider, field);
    // The ordinary input path: htmx sees a change on the form.
    field.dispatchEvent(new Event("input", { bubbles: true }));
  });

  // A control inside the form that asks for its own answer (the candidates' kind picker, whose
  // request redirects to the redrawn page) must not also start the form's recompute: that
  // answer would race the redirect, and its replaceState can cancel the navigation.
  document.addEventListener(
    "input",
    function (e) {
      var t = e.target;
      if (t instanceof Element && t.hasAttribute("hx-get") && t.closest("form[hx-get]")) {
        e.stopPropagation();
      }
    },
    true
  );

  // htmx listens on the form and waits INPUT_DELAY_MS before it reads the fields; this handler
  // runs first, so the paired number field is up to date by the time the request is built.
  document.addEventListener("input", function (e) {
    var t = e.target;
    if (!(t instanceof HTMLInputElement)) return;
    if (t.classList.contains("slider")) {
      sliderToField(t);
      var paired = document.getElementById(t.dataset.pair);
      if (paired) setValueText(t, paired);
    } else if (t.id) fieldToSlider(t);
  });

  // Keep the URL short: a field left empty or at its default is the same scenario unsaid.
  document.addEventListener("htmx:configRequest", function (e) {
    var form = e.detail.elt;
    if (!form || form.id !== "scenario") return;
    var data = e.detail.formData;
    Array.from(new Set(data.keys())).forEach(function (name) {
      var el = form.elements.namedItem(name);
      var value = data.get(name);
      // A model picker is always sent, "None" (empty) included: without it the link would
      // reopen on the default model while the figures assume none.
      if (el instanceof HTMLSelectElement && el.dataset.default === undefined) return;
      if (value === "" || (el && el.dataset && el.dataset.default !== undefined && value === el.dataset.default)) {
        data.delete(name);
      }
    });
  });

  // The fragment lists the fields it could not use; mark them in the form, clear the others.
  function markFields() {
    var results = document.getElementById("results");
    if (!results) return;
    var reasons = {};
    results.querySelectorAll(".field-errors [data-field]").forEach(function (li) {
      reasons[li.dataset.field] = li.dataset.reason;
    });
    document.querySelectorAll("#scenario [data-error-for]").forEach(function (p) {
      var reason = reasons[p.dataset.errorFor];
      var field = document.getElementById(p.id.replace(/-error$/, ""));
      p.hidden = !reason;
      p.textContent = reason || "";
      if (!field) return;
      var help = field.id + "-help";
      if (reason) {
        field.setAttribute("aria-invalid", "true");
        field.setAttribute("aria-describedby", help + " " + p.id);
      } else {
        field.removeAttribute("aria-invalid");
        field.setAttribute("aria-describedby", help);
      }
      var box = field.closest(".field");
      if (box) box.classList.toggle("invalid", !!reason);
    });
    // What a humanely typed number was read as ("Read as 2,000,000"), under its field.
    var normal = {};
    results.querySelectorAll(".normalised-list [data-field]").forEach(function (li) {
      normal[li.dataset.field] = li.dataset.text;
    });
    document.querySelectorAll("#scenario [data-normalised-for]").forEach(function (p) {
      var text = normal[p.dataset.normalisedFor];
      p.hidden = !text;
      if (p.textContent !== (text || "")) p.textContent = text || "";
    });
    // The JSON twin in <head> follows the results.
    var json = results.querySelector('.links a[type="application/json"]');
    var alt = document.querySelector('link[rel="alternate"][type="application/json"]');
    if (json && alt) alt.href = json.href;
    // One short sentence for screen readers, not the whole results section.
    var announce = document.getElementById("announce");
    var verdict = results.querySelector("#verdict");
    var summary = results.querySelector("#summary");
    if (announce) {
      announce.textContent = verdict
        ? verdict.textContent + ". " + (summary ? summary.textContent : "")
        : "Some inputs need fixing.";
    }
  }
  document.addEventListener("htmx:afterSettle", markFields);

  // "Use N tokens" in the prompt counter: the server answers with the htmx event
  // tokens-applied {field, tokens}; put the count into that scenario field and let the
  // ordinary input path recompute the results and move the paired slider.
  document.body.addEventListener("tokens-applied", function (e) {
    var detail = e.detail || {};
    var form = document.getElementById("scenario");
    var field = form ? form.elements.namedItem(detail.field) : null;
    if (!(field instanceof HTMLInputElement)) return;
    field.value = String(detail.tokens);
    field.dispatchEvent(new Event("input", { bubbles: true }));
  });

  // Self-hosted pickers: copy a catalog GPU offer or throughput preset into the scenario's
  // fields, then let the ordinary input path recompute. The pickers themselves are not sent.
  var PICKS = {
    gpu: { price: "finetuned.self_hosted.gpu_hourly_price" },
    throughput: {
      gpus: "finetuned.self_hosted.gpus_per_replica",
      prefill: "finetuned.self_hosted.prefill_tokens_per_s",
      decode: "finetuned.self_hosted.decode_tokens_per_s"
    }
  };
  document.addEventListener("change", function (e) {
    var select = e.target;
    if (!(select instanceof HTMLSelectElement) || !select.dataset.pick) return;
    var option = select.selectedOptions[0];
    var fields = PICKS[select.dataset.pick];
    var form = document.getElementById("scenario");
    if (!option || !option.value || !fields || !form) return;
    var last = null;
    Object.keys(fields).forEach(function (key) {
      var field = form.elements.namedItem(fields[key]);
      if (field instanceof HTMLInputElement && option.dataset[key] !== undefined) {
        field.value = option.dataset[key];
        last = field;
      }
    });
    if (last) last.dispatchEvent(new Event("input", { bubbles: true }));
  });

  // "Show live preview" of the embed: the frame gets its address only once asked for, and
  // then follows the scenario after every swap of the results.
  var previewShown = false;
  function showPreview() {
    document.querySelectorAll("iframe.embed-preview[data-src]").forEach(function (frame) {
      if (frame.getAttribute("src") !== frame.dataset.src) frame.setAttribute("src", frame.dataset.src);
      frame.hidden = false;
    });
  }
  document.addEventListener("click", function (e) {
    var button = e.target instanceof Element ? e.target.closest("[data-show-preview]") : null;
    if (!button) return;
    previewShown = true;
    showPreview();
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (previewShown) showPreview();
  });

  // "Copy link": the address bar is the scenario. Without JavaScript the link just opens it.
  document.addEventListener("click", function (e) {
    var a = e.target instanceof Element ? e.target.closest("a[data-copy]") : null;
    if (!a) return;
    e.preventDefault();
    var status = document.querySelector("#results .copy-status");
    var url = window.location.href;
    function say(text) { if (status) status.textContent = text; }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(url).then(
        function () { say("Link copied."); },
        function () { say("Copy failed; the address bar holds the link."); }
      );
    } else {
      say("Copy the address bar: it holds the link.");
    }
  });

  // "Copy link with these prices": the link's own address (every price written out).
  document.addEventListener("click", function (e) {
    var a = e.target instanceof Element ? e.target.closest("a[data-copy-href]") : null;
    if (!a) return;
    e.preventDefault();
    var status = document.querySelector("#results .copy-status");
    function say(text) { if (status) status.textContent = text; }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(a.href).then(
        function () { say("Link with these prices copied."); },
        function () { say("Copy failed; open the link and copy its address."); }
      );
    } else {
      window.location.href = a.href;
    }
  });

  // Links to a field (the "what moves it most" list): open the folds around it, then focus it.
  document.addEventListener("click", function (e) {
    var a = e.target instanceof Element ? e.target.closest("a[data-open-field]") : null;
    if (!a) return;
    var field = document.getElementById(a.dataset.openField);
    if (!field) return;
    e.preventDefault();
    for (var d = field.closest("details"); d; d = d.parentElement && d.parentElement.closest("details")) d.open = true;
    field.scrollIntoView({ block: "center" });
    field.focus({ preventScroll: true });
  });

  // "Print" on the memo.
  document.addEventListener("click", function (e) {
    var button = e.target instanceof Element ? e.target.closest("[data-print]") : null;
    if (button) window.print();
  });

  // The compact summary bar (narrow screens) hides while the results' own verdict is on screen.
  var watched = null;
  var observer = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
    var bar = document.getElementById("sticky-summary");
    if (bar) bar.classList.toggle("off", entries.some(function (en) { return en.isIntersecting; }));
  }) : null;
  function watchVerdict() {
    var verdict = document.querySelector("#results .verdict");
    if (!observer || verdict === watched) return;
    if (watched) observer.unobserve(watched);
    watched = verdict;
    if (verdict) observer.observe(verdict);
  }
  document.addEventListener("DOMContentLoaded", watchVerdict);
  document.addEventListener("htmx:afterSettle", watchVerdict);

  // "Copy snippet" under "Embed this scenario": the snippet is in a read-only textarea, so
  // without the clipboard API the text is selected for the user to copy.
  document.addEventListener("click", function (e) {
    var button = e.target instanceof Element ? e.target.closest("[data-copy-snippet]") : null;
    if (!button) return;
    var area = document.getElementById(button.dataset.copySnippet);
    var status = button.parentElement ? button.parentElement.querySelector(".copy-snippet-status") : null;
    if (!(area instanceof HTMLTextAreaElement)) return;
    function say(text) { if (status) status.textContent = text; }
    area.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(area.value).then(
        function () { say("Snippet copied."); },
        function () { say("Copy failed; the snippet is selected."); }
      );
    } else {
      say("The snippet is selected: copy it.");
    }
  });
})();

// --- What moves the answer: range inputs (app/web/analysis.py) ---------------------------
(function () {
  "use strict";

  // Each range has a low and a high box, both named range.<input>. Join them with the field's
  // own value (the most likely) into range.<input>=low,mode,high, the GET syntax of
  // /api/v1/uncertainty, so the URL works on the API too. Listening on <body> runs this
  // before the document-level handler above, which drops empty values. An incomplete pair is
  // sent as it is, and the server says what is missing.
  document.body.addEventListener("htmx:configRequest", function (e) {
    var form = e.detail.elt;
    if (!form || form.id !== "scenario") return;
    var data = e.detail.formData;
    form.querySelectorAll("fieldset[data-range-for]").forEach(function (box) {
      var name = "range." + box.dataset.rangeFor;
      var low = box.querySelector('[data-range-end="low"]');
      var high = box.querySelector('[data-range-end="high"]');
      if (!low || !high) return;
      data.delete(name);
      var lo = low.value.trim();
      var hi = high.value.trim();
      if (lo === "" && hi === "") return;
      var field = form.elements.namedItem(box.dataset.rangeFor);
      var mode = field && field.value !== undefined ? (field.value.trim() || field.dataset.default || "") : "";
      if (lo === "" || hi === "" || mode === "") {
        data.append(name, lo);
        data.append(name, hi);
        return;
      }
      var parts = [lo, mode, hi];
      if (box.dataset.distribution) parts.push(box.dataset.distribution);
      data.append(name, parts.join(","));
    });
  });

  // The panel lists the ranges it could not use; mark them in the form and clear the others.
  // While the panel is still loading, the marks it gave last stay.
  document.addEventListener("htmx:afterSettle", function () {
    var panel = document.querySelector("#results #analysis:not(.loading)");
    if (!panel) return;
    var reasons = {};
    panel.querySelectorAll(".range-errors [data-range-field]").forEach(function (li) {
      reasons[li.dataset.rangeField] = li.dataset.reason;
    });
    document.querySelectorAll("#scenario [data-range-error-for]").forEach(function (p) {
      var reason = reasons[p.dataset.rangeErrorFor];
      p.hidden = !reason;
      p.textContent = reason || "";
      var box = p.closest("fieldset");
      if (!box) return;
      box.classList.toggle("invalid", !!reason);
      box.querySelectorAll("input").forEach(function (input) {
        if (reason) {
          input.setAttribute("aria-invalid", "true");
          input.setAttribute("aria-describedby", p.id);
        } else {
          input.removeAttribute("aria-invalid");
          input.removeAttribute("aria-describedby");
        }
      });
    });
  });
})();
