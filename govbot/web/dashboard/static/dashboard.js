// govbot dashboard: draws every chart of the page with plotly.js (served by govbot).
// A chart is an element with data-chart="ID", its figure the JSON in <script id="ID">.
(function () {
  "use strict";

  function draw() {
    if (typeof window.Plotly === "undefined") {
      return;
    }
    var nodes = document.querySelectorAll("[data-chart]");
    Array.prototype.forEach.call(nodes, function (node) {
      var source = document.getElementById(node.getAttribute("data-chart"));
      if (!source) {
        return;
      }
      var figure = JSON.parse(source.textContent);
      window.Plotly.newPlot(node, figure.data, figure.layout, {
        responsive: true,
        displayModeBar: false,
      }).then(function () {
        node.setAttribute("data-drawn", "true");
      });
    });
  }

  // Confirm before an admin action that changes state (forms with data-confirm).
  function confirmForms() {
    var forms = document.querySelectorAll("form[data-confirm]");
    Array.prototype.forEach.call(forms, function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) {
          event.preventDefault();
        }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      draw();
      confirmForms();
    });
  } else {
    draw();
    confirmForms();
  }
})();
