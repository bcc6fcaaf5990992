// The diagram of an instance, drawn by bpmn-js (npm, served from /vendor) with what ran, what is
// current and what waits. Only an enhancement: every page works without it.
(function () {
  "use strict";
  var box = document.querySelector("[data-diagram-url]");
  if (!box || !window.fetch) return;

  function load(src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src; script.onload = resolve; script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  // The viewer's stylesheet comes with the viewer: a page read without scripts never loads either.
  var css = document.createElement("link");
  css.rel = "stylesheet"; css.href = box.getAttribute("data-css");
  document.head.appendChild(css);

  function show(state) {
    var viewer = new window.BpmnJS({ container: box });
    return viewer.importXML(state.xml).then(function () {
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      function mark(ids, css) {
        ids.forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, css); });
      }
      mark(state.completed, "done"); mark(state.waiting, "waiting"); mark(state.active, "active");
      var current = state.active.concat(state.waiting).map(function (id) { return registry.get(id); }).filter(Boolean);
      function fit() {
        // The whole diagram, a little smaller than the box: clear of the bpmn.io logo in its corner.
        canvas.zoom("fit-viewport", "auto");
        var size = canvas.getSize(); // zoom around the middle of the box (container pixels)
        canvas.zoom(canvas.zoom() * 0.88, { x: size.width / 2, y: size.height / 2 });
      }
      var actions = {
        fit: fit,
        "in": function () { canvas.zoom(canvas.zoom() * 1.25); },
        out: function () { canvas.zoom(canvas.zoom() / 1.25); },
        current: function () { if (current.length) { canvas.zoom(1); canvas.scrollToElement(current[0]); } }
      };
      fit();
      var tools = box.parentNode.querySelector(".diagram-tools");
      if (tools) {
        tools.hidden = false;
        tools.querySelector('[data-zoom="current"]').hidden = !current.length;
        tools.addEventListener("click", function (event) {
          var action = event.target.closest("[data-zoom]");
          if (action) actions[action.getAttribute("data-zoom")]();
        });
      }
      if (tools) heatOverlay(viewer, tools, state.process_id);
      box.setAttribute("data-ready", "true");
    });
  }

  // The heat overlay (for who reads the SLA report): the median hours each step stayed open across
  // the cases of the last six months, as a badge on the step, darker the longer. Off until asked.
  function heatOverlay(viewer, tools, processId) {
    var button = tools.querySelector("[data-heat]");
    if (!button) return;
    var overlays = viewer.get("overlays");
    var registry = viewer.get("elementRegistry");
    var url = button.getAttribute("data-heat").replace("PROCESS", encodeURIComponent(processId));
    button.hidden = false;
    button.addEventListener("click", function () {
      if (button.getAttribute("aria-pressed") === "true") {
        overlays.remove({ type: "heat" });
        button.setAttribute("aria-pressed", "false");
        return;
      }
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (heat) {
        var ids = Object.keys(heat.steps).filter(function (id) { return registry.get(id); });
        var most = Math.max.apply(null, ids.map(function (id) { return heat.steps[id].median_hours || 0; }).concat([1]));
        ids.forEach(function (id) {
          var step = heat.steps[id];
          var badge = document.createElement("span");
          badge.className = "heat heat-" + Math.min(3, Math.floor(((step.median_hours || 0) / most) * 4));
          badge.textContent = (step.median_hours || 0) + " h";
          badge.title = step.done + " × · " + step.median_hours + " h";
          overlays.add(id, "heat", { position: { bottom: -6, right: 8 }, html: badge });
        });
        button.setAttribute("aria-pressed", "true");
        box.setAttribute("data-heat-shown", String(ids.length));
      });
    });
  }

  Promise.all([load(box.getAttribute("data-viewer")), fetch(box.getAttribute("data-diagram-url"), { credentials: "same-origin" })])
    .then(function (results) { return results[1].json(); })
    .then(show)
    .catch(function (error) {
      box.setAttribute("data-error", String(error));
      box.textContent = "The diagram could not be drawn.";
    });
})();
