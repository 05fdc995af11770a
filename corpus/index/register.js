// The register's client-side behaviour: filter entries as you type, filter the timeline by
// period. No server, no external resources; works from file://.
(function () {
  "use strict";
  function fold(s) {
    return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  function setupRegister(form) {
    var box = document.getElementById("q");
    var count = document.getElementById("count");
    var entries = Array.prototype.map.call(document.querySelectorAll(".entry"), function (el) {
      return {el: el, names: fold(el.getAttribute("data-names") || ""),
              type: el.getAttribute("data-type"), status: el.getAttribute("data-status")};
    });
    var sections = document.querySelectorAll("section[data-type]");
    var total = entries.length;
    var pending = false;
    function checked(name) {
      var on = {};
      form.querySelectorAll("input[name=" + name + "]").forEach(function (i) {
        on[i.value] = i.checked;
      });
      return on;
    }
    function apply() {
      pending = false;
      var q = fold(box.value.trim());
      var types = checked("type"), statuses = checked("status");
      var shown = 0, perType = {};
      for (var i = 0; i < entries.length; i++) {
        var e = entries[i];
        var ok = types[e.type] && statuses[e.status] && (!q || e.names.indexOf(q) !== -1);
        if (e.el.hidden === ok) { e.el.hidden = !ok; }
        if (ok) { shown++; perType[e.type] = (perType[e.type] || 0) + 1; }
      }
      sections.forEach(function (s) {
        var n = perType[s.getAttribute("data-type")] || 0;
        s.hidden = n === 0;
        var c = s.querySelector(".type-count");
        if (c) { c.textContent = "(" + n + ")"; }
      });
      count.textContent = shown + " of " + total + " entries shown";
    }
    function schedule() {
      if (!pending) { pending = true; window.requestAnimationFrame(apply); }
    }
    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    form.addEventListener("submit", function (ev) { ev.preventDefault(); apply(); });
    if (box.value) { apply(); }
  }
  function setupTimeline(select) {
    var periods = document.querySelectorAll("section.period");
    function show() {
      var v = select.value;
      periods.forEach(function (p) { p.hidden = v !== "all" && p.id !== v; });
    }
    select.addEventListener("change", show);
    document.querySelectorAll(".chart a").forEach(function (a) {
      a.addEventListener("click", function () {
        select.value = a.getAttribute("href").slice(1);
        show();
      });
    });
    if (window.location.hash) {
      var id = window.location.hash.slice(1);
      if (document.getElementById(id) && select.querySelector("option[value='" + id + "']")) {
        select.value = id;
      }
    }
    show();
  }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("filter");
    if (form) { setupRegister(form); }
    var period = document.getElementById("period");
    if (period) { setupTimeline(period); }
  });
})();
