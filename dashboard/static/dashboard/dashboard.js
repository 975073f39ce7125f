/* Draws the admin dashboard's charts from the JSON the page carries (#dashboard-data), with the
   vendored Chart.js. Amounts arrive as strings of two decimals and are drawn as numbers. */
(function () {
  "use strict";
  var node = document.getElementById("dashboard-data");
  if (!node || typeof Chart === "undefined") { return; }
  var data = JSON.parse(node.textContent);
  var palette = ["#417690", "#79aec8", "#e0a030", "#5b9b5b", "#b35c5c", "#8a6fb0"];
  var styles = getComputedStyle(document.documentElement);
  var text = styles.getPropertyValue("--body-fg").trim() || "#333";
  var grid = styles.getPropertyValue("--hairline-color").trim() || "#e8e8e8";
  Chart.defaults.color = text;
  Chart.defaults.borderColor = grid;
  Chart.defaults.font.family = styles.getPropertyValue("--font-family-primary").trim() || Chart.defaults.font.family;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.animation = false;

  function money(value, currency) {
    return Number(value).toLocaleString(undefined, {minimumFractionDigits: 2, maximumFractionDigits: 2}) + " " + currency;
  }
  function compact(value) {
    return Number(value).toLocaleString(undefined, {notation: "compact", maximumFractionDigits: 1});
  }
  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) { return; }
    if (config.options.indexAxis === "y") {  // a bar per rep: as tall as its bars need, up to the box's height
      var box = canvas.parentNode;
      box.style.height = Math.min(box.clientHeight, 90 + 22 * config.data.labels.length) + "px";
    }
    canvas.chart = new Chart(canvas, config);
  }

  draw("chart-sales-by-month", {
    type: "bar",
    data: {
      labels: data.months,
      datasets: data.salesByMonth.map(function (series, i) {
        return {label: series.currency, data: series.amounts.map(Number), backgroundColor: palette[i % palette.length]};
      })
    },
    options: {
      plugins: {
        legend: {display: data.salesByMonth.length > 1},
        tooltip: {callbacks: {label: function (c) { return money(c.raw, c.dataset.label); }}}
      },
      scales: {y: {beginAtZero: true, ticks: {callback: compact}}}
    }
  });

  draw("chart-rep-sales", {
    type: "bar",
    data: {
      labels: data.reps,
      datasets: [
        {label: "Last month", data: data.repSales.previous.map(Number), backgroundColor: palette[1]},
        {label: "This month", data: data.repSales.current.map(Number), backgroundColor: palette[0]}
      ]
    },
    options: {
      indexAxis: "y",
      plugins: {tooltip: {callbacks: {label: function (c) { return c.dataset.label + ": " + money(c.raw, data.currency); }}}},
      scales: {x: {beginAtZero: true, ticks: {callback: compact}}, y: {ticks: {autoSkip: false}}}
    }
  });

  draw("chart-attainment", {
    type: "bar",
    data: {
      labels: data.attainment.map(function (a) { return a.rep; }),
      datasets: [{
        label: "Attainment",
        data: data.attainment.map(function (a) { return Number(a.percent); }),
        backgroundColor: data.attainment.map(function (a) { return Number(a.percent) >= 100 ? palette[3] : palette[2]; })
      }]
    },
    options: {
      indexAxis: "y",
      plugins: {legend: {display: false}, tooltip: {callbacks: {label: function (c) { return c.raw.toFixed(1) + " % of quota"; }}}},
      scales: {x: {beginAtZero: true, suggestedMax: 100, ticks: {callback: function (v) { return v + " %"; }}},
               y: {ticks: {autoSkip: false}}}
    }
  });
})();
