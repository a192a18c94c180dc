// Draws each report chart from the JSON beside its canvas (Chart.js, vendored).
(function () {
  "use strict";
  var palette = ["#2563eb", "#f97316", "#16a34a", "#9333ea", "#dc2626", "#0891b2",
                 "#ca8a04", "#db2777", "#4b5563", "#65a30d"];
  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || !window.Chart) { return; }
    var config = JSON.parse(source.textContent);
    var datasets = config.datasets.map(function (d, i) {
      var colour = palette[i % palette.length];
      return {label: d.label, data: d.data, backgroundColor: colour, borderColor: colour,
              tension: 0.2, pointRadius: config.labels.length > 40 ? 0 : 2};
    });
    new window.Chart(canvas, {
      type: config.type,
      data: {labels: config.labels, datasets: datasets},
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: {legend: {position: "bottom"}},
        scales: {x: {stacked: config.stacked}, y: {stacked: config.stacked, beginAtZero: true}}
      }
    });
    canvas.dataset.drawn = "1";
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  });
})();
