// The changed and added elements of a version, marked on its diagram (bpmn-js viewer).
(function () {
  "use strict";
  var box = document.getElementById("diff-diagram");
  if (!box || !window.fetch) return;
  var script = document.createElement("script");
  script.src = box.getAttribute("data-viewer");
  script.onload = function () {
    fetch(box.getAttribute("data-diagram-url"), { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (file) {
      var viewer = new window.BpmnJS({ container: box });
      return viewer.importXML(file.xml).then(function () {
        var canvas = viewer.get("canvas"), registry = viewer.get("elementRegistry");
        [["changed", "data-changed"], ["added", "data-added"]].forEach(function (pair) {
          (box.getAttribute(pair[1]) || "").split(" ").filter(Boolean).forEach(function (id) {
            if (registry.get(id)) canvas.addMarker(id, pair[0]);
          });
        });
        canvas.zoom("fit-viewport", "auto");
        box.setAttribute("data-ready", "true");
      });
    });
  };
  document.head.appendChild(script);
})();
