// Live preview of a form's JSON Schema as the manager types (the Preview button does the same without JavaScript).
(function () {
  "use strict";
  var form = document.getElementById("schema-form");
  if (!form || !window.fetch) return;
  var text = document.getElementById("schema"), box = document.getElementById("preview");
  var problem = document.getElementById("preview-problem"), timer = null;
  var token = form.querySelector("input[name=csrf_token]").value;
  text.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      fetch(form.getAttribute("data-preview-url"), {
        method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": token, "Content-Type": "text/plain" }, body: text.value
      }).then(function (r) { return r.json(); }).then(function (answer) {
        problem.hidden = !answer.problem; problem.textContent = answer.problem || "";
        if (!answer.problem) box.innerHTML = answer.html;  // rendered and escaped by the server
      });
    }, 300);
  });
})();
