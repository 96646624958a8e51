/**
 * The browser script that draws DAGs (served at /static/cinder-dag.js): every
 * <div class="dag" data-graph='{"nodes":[{id,label,cluster?}],"edges":[[from,to]],"clusters":[{id,label}]}'>
 * is laid out by dagre (/static/lib/dagre.js, @dagrejs/dagre's browser build) and replaced by an SVG.
 */
export const DAG_SCRIPT = `(function () {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';
  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function draw(div) {
    var g = JSON.parse(div.getAttribute('data-graph'));
    var graph = new dagre.graphlib.Graph({ compound: true });
    graph.setGraph({ rankdir: 'TB', nodesep: 24, ranksep: 28, marginx: 10, marginy: 26 });
    graph.setDefaultEdgeLabel(function () { return {}; });
    (g.clusters || []).forEach(function (c) { graph.setNode(c.id, { label: c.label, clusterLabelPos: 'top' }); });
    g.nodes.forEach(function (n) {
      graph.setNode(n.id, { label: n.label, width: Math.max(70, n.label.length * 7 + 16), height: 26, href: n.href, cls: n.cls });
      if (n.cluster) graph.setParent(n.id, n.cluster);
    });
    g.edges.forEach(function (e) { graph.setEdge(e[0], e[1]); });
    dagre.layout(graph);
    var w = graph.graph().width + 20, h = graph.graph().height + 20;
    var svg = el('svg', { width: w, height: h, viewBox: '0 0 ' + w + ' ' + h, 'class': 'dag-svg', role: 'img' });
    var defs = el('defs', {}, svg);
    var m = el('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto' }, defs);
    el('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#868e96' }, m);
    (g.clusters || []).forEach(function (c) {
      var n = graph.node(c.id);
      if (!n || !n.width) return;
      var grp = el('g', { 'class': 'dag-cluster', 'data-id': c.id }, svg);
      el('rect', { x: n.x - n.width / 2, y: n.y - n.height / 2 - 14, width: n.width, height: n.height + 14, rx: 6, fill: '#fff4e6', stroke: '#ffa94d' }, grp);
      var t = el('text', { x: n.x - n.width / 2 + 6, y: n.y - n.height / 2 - 2, 'font-size': 12, fill: '#d9480f' }, grp);
      t.textContent = c.label;
    });
    graph.edges().forEach(function (e) {
      var pts = graph.edge(e).points;
      var d = 'M' + pts.map(function (p) { return p.x + ',' + p.y; }).join(' L');
      el('path', { d: d, fill: 'none', stroke: '#868e96', 'stroke-width': 1.5, 'marker-end': 'url(#arrow)', 'class': 'dag-edge' }, svg);
    });
    g.nodes.forEach(function (nd) {
      var n = graph.node(nd.id);
      var parent = svg;
      if (nd.href) parent = el('a', { href: nd.href }, svg);
      var grp = el('g', { 'class': 'dag-node ' + (nd.cls || ''), 'data-id': nd.id }, parent);
      var cached = (nd.cls || '').indexOf('cached') >= 0;
      el('rect', { x: n.x - n.width / 2, y: n.y - n.height / 2, width: n.width, height: n.height, rx: 4, fill: cached ? '#d3f9d8' : '#e7f5ff', stroke: cached ? '#2b8a3e' : '#1971c2' }, grp);
      if (cached) { var tt = el('title', {}, grp); tt.textContent = 'cached'; }
      var t = el('text', { x: n.x, y: n.y + 4, 'text-anchor': 'middle', 'font-size': 12 }, grp);
      t.textContent = nd.label;
    });
    div.textContent = '';
    div.appendChild(svg);
  }
  function all() { Array.prototype.forEach.call(document.querySelectorAll('div.dag[data-graph]'), draw); }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', all); else all();
})();
`;
