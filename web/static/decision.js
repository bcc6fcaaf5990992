// A DMN file of a draft in dmn-js (npm, served from /vendor/dmn-js): the decision table editor,
// saved and checked on the server like the diagram. The bpmn.io logo stays visible (licence).
(function () {
  "use strict";
  var app = document.getElementById("decision-app");
  if (!app || !window.DmnJS) return;
  var editor = new window.DmnJS({ container: "#dmn-canvas" });
  var revision = null, state = document.getElementById("save-state");

  function openTable() {
    var table = editor.getViews().filter(function (v) { return v.type === "decisionTable"; })[0];
    return table ? editor.open(table) : Promise.resolve();
  }

  fetch(app.getAttribute("data-file-url"), { credentials: "same-origin" }).then(function (r) { return r.json(); })
    .then(function (file) {
      revision = file.revision;
      return editor.importXML(file.text).then(openTable).then(function () { app.setAttribute("data-ready", "true"); });
    });

  document.getElementById("save-decision").addEventListener("click", function () {
    state.textContent = "Saving…";
    editor.saveXML({ format: true }).then(function (result) {
      var files = {}; files[app.getAttribute("data-file-name")] = result.xml;
      return fetch(app.getAttribute("data-save-url"), {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": app.getAttribute("data-csrf") },
        body: JSON.stringify({ files: files, revision: revision })
      });
    }).then(function (r) { return r.json(); }).then(function (answer) {
      revision = answer.revision;
      var list = document.getElementById("problems");
      list.textContent = "";
      (answer.problems || []).forEach(function (p) {
        var item = document.createElement("li");
        item.className = "problem-" + p.severity;
        item.textContent = p.severity + ": " + (p.element || p.file) + ": " + p.message;
        list.appendChild(item);
      });
      state.textContent = answer.errors ? "Saved, with " + answer.errors + " error(s)." : "Saved. No errors.";
      app.setAttribute("data-saved", String(revision));
    });
  });
})();
