// The dashboard's usage charts, drawn with uPlot (served by Tollgate from /static). The numbers come from a JSON
// data block on the page; the same numbers are in the tables under each chart, so nothing depends on this script.
/* global document, window, uPlot, getComputedStyle */
(function () {
  'use strict';
  var dataEl = document.getElementById('usage-data');
  if (!dataEl || typeof uPlot === 'undefined') return;
  var data;
  try { data = JSON.parse(dataEl.textContent || '{}'); } catch (e) { return; }

  var css = getComputedStyle(document.documentElement);
  var color = function (name, fallback) { return (css.getPropertyValue(name) || fallback).trim(); };
  var c1 = color('--chart-1', '#1f4fc4');
  var c2 = color('--chart-2', '#c2410c');
  var c3 = color('--danger', '#b3261e');
  var muted = color('--muted', '#555a63');
  var grid = color('--line', '#d5d9e0');
  var fmt = function (n) { return n == null ? '' : Number(n).toLocaleString('en-US'); };
  var axis = function (extra) {
    var a = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    for (var k in extra) a[k] = extra[k];
    return a;
  };
  var charts = [];

  function widthOf(el) { return Math.max(260, el.clientWidth); }

  function daily(el) {
    var xs = data.days.map(function (d) { return Date.parse(d + 'T00:00:00Z') / 1000; });
    return new uPlot({
      width: widthOf(el), height: 240, tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'); },
      legend: { show: false }, cursor: { points: { size: 6 } },
      scales: { x: { time: true, range: function (u, min, max) { return [min - 43200, max + 43200]; } }, calls: { auto: true, range: function (u, min, max) { return [0, Math.max(1, max)]; } }, credits: { auto: true, range: function (u, min, max) { return [0, Math.max(1, max)]; } } },
      series: [
        {},
        { label: 'Calls', scale: 'calls', stroke: c1, fill: c1, paths: uPlot.paths.bars({ size: [0.7, 24] }), points: { show: false }, value: function (u, v) { return fmt(v); } },
        { label: 'Credits', scale: 'credits', stroke: c2, width: 2, points: { size: 5, fill: c2 }, value: function (u, v) { return fmt(v); } },
        // Calls that did not end ok (tool errors and refusals), on the calls scale.
        { label: 'Errors', scale: 'calls', stroke: c3, width: 2, dash: [4, 3], points: { size: 4, fill: c3 }, value: function (u, v) { return fmt(v); } },
      ],
      axes: [axis({}), axis({ scale: 'calls', values: function (u, vs) { return vs.map(fmt); }, size: 60 }), axis({ scale: 'credits', side: 1, grid: { show: false }, values: function (u, vs) { return vs.map(fmt); }, size: 60 })],
    }, [xs, data.calls, data.credits, data.errors || data.days.map(function () { return 0; })], el);
  }

  function bars(el, group) {
    var names = group.names;
    var xs = names.map(function (_, i) { return i; });
    // Labels get the room their bar has: about 7 px a character, never fewer than 4.
    var room = Math.max(4, Math.floor((widthOf(el) - 90) / Math.max(1, names.length) / 7));
    var short = function (s) { return s.length > room ? s.slice(0, room - 1) + '…' : s; };
    return new uPlot({
      width: widthOf(el), height: 240, legend: { show: false },
      scales: { x: { time: false, range: function () { return [-0.5, names.length - 0.5]; } }, y: { range: function (u, min, max) { return [0, Math.max(1, max)]; } } },
      series: [
        {},
        { label: 'Calls', stroke: c1, fill: c1, paths: uPlot.paths.bars({ size: [0.4, 48], align: -1 }), points: { show: false } },
        { label: 'Credits', stroke: c2, fill: c2, paths: uPlot.paths.bars({ size: [0.4, 48], align: 1 }), points: { show: false } },
      ],
      axes: [
        axis({ grid: { show: false }, splits: function () { return xs; }, values: function (u, vs) { return vs.map(function (v) { return names[v] === undefined ? '' : short(names[v]); }); } }),
        axis({ values: function (u, vs) { return vs.map(fmt); }, size: 60 }),
      ],
    }, [xs, group.calls, group.credits], el);
  }

  var make = { daily: function (el) { return daily(el); }, tools: function (el) { return bars(el, data.tools); }, clients: function (el) { return bars(el, data.clients); } };
  document.querySelectorAll('[data-chart]').forEach(function (el) {
    var kind = el.getAttribute('data-chart');
    if (!make[kind]) return;
    if (kind !== 'daily' && !(data[kind] && data[kind].names.length)) return;
    el.textContent = '';
    charts.push({ el: el, plot: make[kind](el) });
  });

  var pending = 0;
  window.addEventListener('resize', function () {
    window.clearTimeout(pending);
    pending = window.setTimeout(function () {
      charts.forEach(function (c) { c.plot.setSize({ width: widthOf(c.el), height: 240 }); });
    }, 150);
  });
})();
