// The modeler page: bpmn-js Modeler (npm, served from /vendor) on the draft's diagram, a small
// panel for what doeflow reads (name, timer text, condition), save with server validation, the
// problems pointed at their elements, and a dry run. The bpmn.io logo stays visible (licence).
(function () {
  "use strict";
  var app = document.getElementById("modeler-app");
  if (!app || !window.BpmnJS) return;
  var modeler = new window.BpmnJS({ container: "#canvas", keyboard: { bindTo: document } });
  var revision = null;
  var csrf = app.getAttribute("data-csrf");
  var state = document.getElementById("save-state");
  var problemsList = document.getElementById("problems");
  var panel = document.getElementById("properties");
  var marked = [];

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (json) { return { status: r.status, json: json }; }); });
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function showProblems(problems) {
    var canvas = modeler.get("canvas"), registry = modeler.get("elementRegistry");
    marked.forEach(function (m) { canvas.removeMarker(m[0], m[1]); });
    marked = [];
    problemsList.textContent = "";
    if (!problems.length) problemsList.appendChild(el("li", { "class": "empty" }, "None."));
    problems.forEach(function (p) {
      var item = el("li", { "class": "problem-" + p.severity, "data-element": p.element || "" },
        p.severity + ": " + (p.element || p.file) + ": " + p.message);
      if (p.element && registry.get(p.element)) {
        var css = "problem-" + p.severity;
        canvas.addMarker(p.element, css); marked.push([p.element, css]);
        item.tabIndex = 0;
        item.addEventListener("click", function () { focus(p.element); });
      }
      problemsList.appendChild(item);
    });
    var errors = problems.filter(function (p) { return p.severity === "error"; }).length;
    document.getElementById("publish").disabled = errors > 0;
    app.setAttribute("data-errors", String(errors));
  }

  function focus(id) {
    var element = modeler.get("elementRegistry").get(id);
    if (!element) return;
    modeler.get("selection").select(element);
    modeler.get("canvas").scrollToElement(element);
  }

  function timerOf(bo) {
    var defs = bo.eventDefinitions || [];
    for (var i = 0; i < defs.length; i++) if (defs[i].$type === "bpmn:TimerEventDefinition") return defs[i];
    return null;
  }

  function field(label, value, onChange, multiline) {
    var id = "prop-" + label.replace(/\W+/g, "-").toLowerCase();
    var wrap = el("div", { "class": "field" });
    wrap.appendChild(el("label", { "for": id }, label));
    var input = el(multiline ? "textarea" : "input", { id: id });
    input.value = value || "";
    input.addEventListener("change", function () { onChange(input.value); });
    wrap.appendChild(input);
    return wrap;
  }

  function showProperties(element) {
    panel.textContent = "";
    panel.appendChild(el("h2", {}, "Selected element"));
    if (!element) { panel.appendChild(el("p", { "class": "empty" }, "Click an element of the diagram.")); return; }
    var bo = element.businessObject, modeling = modeler.get("modeling"), moddle = modeler.get("moddle");
    panel.appendChild(el("p", { "class": "help" }, bo.$type.replace("bpmn:", "") + " · " + bo.id));
    panel.appendChild(field("Name", bo.name, function (v) { modeling.updateProperties(element, { name: v }); }));
    var timer = timerOf(bo);
    if (timer) {
      var kind = timer.timeDuration ? "timeDuration" : timer.timeDate ? "timeDate" : timer.timeCycle ? "timeCycle" : "timeDuration";
      var current = timer[kind] ? timer[kind].body : "";
      panel.appendChild(field("Timer (" + kind.replace("time", "").toLowerCase() + ", ISO 8601)", current, function (v) {
        var update = {}; update[kind] = moddle.create("bpmn:FormalExpression", { body: v.trim() });
        modeling.updateModdleProperties(element, timer, update);
      }));
    }
    if (bo.$type === "bpmn:SequenceFlow") {
      var condition = bo.conditionExpression ? bo.conditionExpression.body : "";
      panel.appendChild(field("Condition (Python expression)", condition, function (v) {
        modeling.updateProperties(element, {
          conditionExpression: v.trim() ? moddle.create("bpmn:FormalExpression", { body: v.trim() }) : undefined
        });
      }));
    }
  }

  function save() {
    state.textContent = "Saving…";
    return modeler.saveXML({ format: true }).then(function (result) {
      var files = {}; files[app.getAttribute("data-file-name")] = result.xml;
      return post(app.getAttribute("data-save-url"), { files: files, revision: revision });
    }).then(function (answer) {
      if (answer.status !== 200) { state.textContent = answer.json.error || "Not saved."; return; }
      revision = answer.json.revision;
      showProblems(answer.json.problems);
      state.textContent = answer.json.errors ? "Saved, with " + answer.json.errors + " error(s): publishing is blocked." : "Saved. No errors.";
      app.setAttribute("data-saved", String(revision));
    });
  }

  function dryRun() {
    var out = document.getElementById("dryrun-result");
    out.textContent = "Running…";
    var steps = document.getElementById("dryrun-script").value.split("\n").map(function (s) { return s.trim(); }).filter(Boolean);
    save().then(function () { return post(app.getAttribute("data-dryrun-url"), { steps: steps }); }).then(function (answer) {
      out.textContent = "";
      if (answer.status !== 200) { out.textContent = answer.json.error || "The dry run failed."; return; }
      var r = answer.json;
      var list = el("ol", { "class": "timeline" });
      r.events.forEach(function (e) { list.appendChild(el("li", { "class": "ev-" + e.kind }, e.at + " — " + e.text)); });
      out.appendChild(list);
      out.setAttribute("data-ready", "true");
    });
  }

  fetch(app.getAttribute("data-file-url"), { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (file) {
      revision = file.revision;
      return modeler.importXML(file.text).then(function (result) {
        modeler.get("canvas").zoom("fit-viewport", "auto");
        showProblems(file.problems);
        if (result.warnings && result.warnings.length) state.textContent = result.warnings.length + " import warning(s)";
        app.setAttribute("data-ready", "true");
      });
    });
  modeler.on("selection.changed", function (e) { showProperties(e.newSelection[0]); });
  document.getElementById("save").addEventListener("click", save);
  document.getElementById("dryrun").addEventListener("click", dryRun);
})();
