// Draws every tile chart of a dashboard page with uPlot, from the series the
// server built (backdrop/admin/tiles.py, charts.py): lines over time, one
// series per group, or bars; a rate tile's line is in percent.
"use strict";
(() => {
  const COLOURS = ["#1d70b8", "#d4351c", "#00703c", "#f47738", "#4c2c92", "#b58840",
                   "#28a197", "#912b88", "#505a5f", "#85994b"];

  function options(spec, width) {
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
    const yAxis = { label: spec.value, size: 60 };
    if (rate) yAxis.values = (u, ticks) => ticks.map((t) => Math.round(t * 100) + "%");
    return {
      width: width,
      height: Math.max(180, Math.min(300, Math.round(width * 0.55))),
      scales: {
        x: bars ? { time: false, range: [-0.5, spec.x.length - 0.5] } : { time: true },
        y: bars ? { range: (u, min, max) => [Math.min(0, min), max * 1.05] } : {},  // bars from 0
      },
      series: series,
      axes: [bars ? { values: (u, ticks) => ticks.map((t) => spec.labels[t] ?? ""), space: 40 } : {}, yAxis],
      legend: { live: !bars },
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),  // periods are UTC
    };
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (typeof uPlot === "undefined") return;
    const plots = [];
    for (const holder of document.querySelectorAll(".tile-chart")) {
      const spec = JSON.parse(holder.previousElementSibling.textContent);
      const columns = [spec.x, ...spec.series.map((s) => s.values)];
      plots.push([holder, new uPlot(options(spec, holder.clientWidth || 320), columns, holder)]);
      holder.dataset.series = String(spec.series.length);
      holder.dataset.drawn = "true";
    }
    window.addEventListener("resize", () => {
      for (const [holder, plot] of plots) plot.setSize({ width: holder.clientWidth, height: plot.height });
    });
  });
})();
