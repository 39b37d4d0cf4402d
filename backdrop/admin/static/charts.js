// Draws every chart of a page with uPlot, from the series the server built
// (backdrop/admin/charts.py, tiles.py): lines over time, one series per group,
// or bars from zero; a rate chart's values are in percent. The explorer's
// chart is #chart (its data in #chart-data); a dashboard tile's is a
// .tile-chart (its data in the element just before it).
"use strict";
(() => {
  const COLOURS = ["#1d70b8", "#d4351c", "#00703c", "#f47738", "#4c2c92", "#b58840",
                   "#28a197", "#912b88", "#505a5f", "#85994b"];
  const EXPLORER = { min: 220, max: 400, ratio: 0.5, axis: 70, fallback: 600 };
  const TILE = { min: 180, max: 300, ratio: 0.55, axis: 60, fallback: 320 };

  function options(spec, width, size) {
    const bars = spec.kind === "bar";
    const rate = spec.value === "rate";
    const series = [{ label: bars ? "group" : "period start" }];
    spec.series.forEach((s, i) => {
      const colour = COLOURS[i % COLOURS.length];
      series.push(bars
        ? { label: s.label, stroke: colour, fill: colour + "99", paths: uPlot.paths.bars({ size: [0.6, 80] }), points: { show: false } }
        : { label: s.label, stroke: colour, width: 2, spanGaps: false,
            value: rate ? (u, v) => (v == null ? "–" : (v * 100).toFixed(1) + "%") : undefined });
    });
    const yAxis = { label: spec.value, size: size.axis };
    if (rate) yAxis.values = (u, ticks) => ticks.map((t) => Math.round(t * 100) + "%");
    return {
      width: width,
      height: Math.max(size.min, Math.min(size.max, Math.round(width * size.ratio))),
      scales: {
        x: bars ? { time: false, range: [-0.5, spec.x.length - 0.5] } : { time: true },
        y: bars ? { range: (u, min, max) => [Math.min(0, min), max * 1.05] } : {},
      },
      series: series,
      axes: [bars ? { values: (u, ticks) => ticks.map((t) => spec.labels[t] ?? ""), space: 40 } : {}, yAxis],
      legend: { live: !bars },
      // Periods are UTC (SPEC 5.1): label the axis in UTC, whatever the browser's zone.
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    };
  }

  function holders() {
    const found = [];
    const chart = document.getElementById("chart");
    const data = document.getElementById("chart-data");
    if (chart && data) found.push([chart, data, EXPLORER]);
    for (const tile of document.querySelectorAll(".tile-chart")) {
      found.push([tile, tile.previousElementSibling, TILE]);
    }
    return found;
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (typeof uPlot === "undefined") return;
    const plots = [];
    for (const [holder, data, size] of holders()) {
      const spec = JSON.parse(data.textContent);
      const columns = [spec.x, ...spec.series.map((s) => s.values)];
      plots.push([holder, new uPlot(options(spec, holder.clientWidth || size.fallback, size), columns, holder)]);
      holder.dataset.series = String(spec.series.length);
      holder.dataset.drawn = "true";
    }
    window.addEventListener("resize", () => {
      for (const [holder, plot] of plots) plot.setSize({ width: holder.clientWidth, height: plot.height });
    });
  });
})();
