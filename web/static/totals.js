// Computed totals (x-computed) follow their lines while they are typed on the same form. The
// server computes and stores the total whatever this shows; without JavaScript the next page does.
"use strict";
document.querySelectorAll("output[data-sum]").forEach((output) => {
  const [lines, column] = output.dataset.sum.split("[].");
  const form = output.closest("form");
  if (!form || !column) return;
  const line = new RegExp("^" + lines + "\\.\\d+\\." + column + "$");
  const separator = output.dataset.separator || ",";
  const show = (total) => {
    const [whole, fraction] = String(Math.round(total * 100) / 100).split(".");
    const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, separator);
    return fraction ? grouped + "." + fraction : grouped;
  };
  const update = () => {
    let total = 0;
    for (const input of form.querySelectorAll("input")) {
      const row = input.closest("fieldset.row");
      const removed = row && row.querySelector("input[name=_remove]:checked");
      const value = Number(input.value);
      if (line.test(input.name) && !removed && input.value.trim() !== "" && Number.isFinite(value)) total += value;
    }
    output.textContent = show(total);
  };
  form.addEventListener("input", update);
  form.addEventListener("change", update);
});
