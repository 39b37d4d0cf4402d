// Draws the explorer's chart with uPlot from the series the server built
// (backdrop/admin/charts.py): lines over time, one series per group, or bars.
"use strict";
(() => {
  const COLOURS = ["#1d70b8", "#d4351c", "#00703c", "#f47738", "#4c2c92", "#b58840",
                   "#28a197", "#912b88", "#505a5f", "#85994b"];

  function options(spec, width) {
    const bars = spec.kind === "bar";
    const series = [{ label: bars ? "group" : "period start" }];
    spec.series.forEach((s, i) => {
      const colour = COLOURS[i % COLOURS.length];
      series.push(bars
        ? { label: s.label, stroke: colour, fill: colour + "99", paths: uPlot.paths.bars({ size: [0.6, 80] }), points: { show: false } }
        : { label: s.label, stroke: colour, width: 2, spanGaps: false });
    });
    const xAxis = bars
      ? { values: (u, ticks) => ticks.map((t) => spec.labels[t] ?? ""), space: 40 }
      : {};
    return {
      width: width,
      height: Math.max(220, Math.min(400, Math.round(width * 0.5))),
      scales: { x: bars ? { time: false, range: [-0.5, spec.x.length - 0.5] } : { time: true } },
      series: series,
      axes: [xAxis, { label: spec.value, size: 70 }],
      legend: { live: !bars },
      // Periods are UTC (SPEC 5.1): label the axis in UTC, whatever the browser's zone.
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    };
  }

  document.addEventListener("DOMContentLoaded", () => {
    const holder = document.getElementById("chart");
    const data = document.getElementById("chart-data");
    if (!holder || !data || typeof uPlot === "undefined") return;
    const spec = JSON.parse(data.textContent);
    const columns = [spec.x, ...spec.series.map((s) => s.values)];
    const plot = new uPlot(options(spec, holder.clientWidth || 600), columns, holder);
    holder.dataset.series = String(spec.series.length);
    holder.dataset.drawn = "true";
    window.addEventListener("resize", () => {
      plot.setSize({ width: holder.clientWidth, height: plot.height });
    });
  });
})();
