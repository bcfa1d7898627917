// The job's DAG as an SVG picture (Glue Studio's canvas): nodes in layers by their longest path from a source,
// ordered within a layer by where their inputs sit, edges as curves with arrows. Drawing only: the graph is
// the job definition's nodes as the API returns them.

const NS = 'http://www.w3.org/2000/svg';
const W = 140;
const H = 40;
const GAP_X = 24;
const GAP_Y = 34;
const PAD = 16;

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}

export function inputsOf(node) {
  if (Array.isArray(node.inputs)) return node.inputs;
  if (node.input) return [node.input];
  return [];
}

function layers(nodes) {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const depth = new Map();
  const visit = (id, seen = new Set()) => {
    if (depth.has(id)) return depth.get(id);
    if (seen.has(id) || !byId.has(id)) return 0;
    seen.add(id);
    const parents = inputsOf(byId.get(id)).filter((p) => byId.has(p));
    const d = parents.length ? 1 + Math.max(...parents.map((p) => visit(p, seen))) : 0;
    depth.set(id, d);
    return d;
  };
  nodes.forEach((n) => visit(n.id));
  const rows = [];
  for (const n of nodes) (rows[depth.get(n.id)] ||= []).push(n);
  // Order each layer by the mean position of its inputs in the layer above (one pass is enough for job graphs).
  const position = new Map();
  rows.forEach((row, r) => {
    if (r > 0) {
      const key = (n) => {
        const ps = inputsOf(n).filter((p) => position.has(p));
        return ps.length ? ps.reduce((s, p) => s + position.get(p), 0) / ps.length : 0;
      };
      row.sort((a, b) => key(a) - key(b));
    }
    row.forEach((n, i) => position.set(n.id, i - (row.length - 1) / 2));
  });
  return rows.filter(Boolean);
}

// Draw `nodes` into `target`; `onSelect(node)` is called when a node is clicked. Returns select(id).
export function drawDag(target, nodes, onSelect) {
  const rows = layers(nodes);
  const widest = Math.max(1, ...rows.map((r) => r.length));
  const width = widest * W + (widest - 1) * GAP_X + 2 * PAD;
  const height = rows.length * H + (rows.length - 1) * GAP_Y + 2 * PAD;
  const place = new Map();
  rows.forEach((row, r) => {
    const rowWidth = row.length * W + (row.length - 1) * GAP_X;
    const left = (width - rowWidth) / 2;
    row.forEach((n, i) => place.set(n.id, { x: left + i * (W + GAP_X), y: PAD + r * (H + GAP_Y) }));
  });
  const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'dag', role: 'img', 'aria-label': 'job graph' });
  const defs = svg('defs');
  const marker = svg('marker', { id: 'dag-arrow', viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto' });
  marker.append(svg('path', { d: 'M0 0 L10 5 L0 10 z', class: 'arrow' }));
  defs.append(marker);
  root.append(defs);
  for (const n of nodes) {
    const to = place.get(n.id);
    for (const p of inputsOf(n)) {
      const from = place.get(p);
      if (!from) continue;
      const x1 = from.x + W / 2;
      const y1 = from.y + H;
      const x2 = to.x + W / 2;
      const y2 = to.y;
      const mid = (y1 + y2) / 2;
      root.append(svg('path', { class: 'edge', d: `M${x1} ${y1} C${x1} ${mid} ${x2} ${mid} ${x2} ${y2 - 1}`, 'marker-end': 'url(#dag-arrow)' }));
    }
  }
  const boxes = new Map();
  for (const n of nodes) {
    const { x, y } = place.get(n.id);
    const group = svg('g', { class: `node ${n.type || ''}`, 'data-node': n.id, tabindex: '0', transform: `translate(${x} ${y})` });
    group.append(svg('rect', { width: W, height: H, rx: '6' }));
    group.append(svg('text', { x: W / 2, y: 17, class: 'name', 'text-anchor': 'middle' }, n.id.length > 20 ? `${n.id.slice(0, 19)}…` : n.id));
    group.append(svg('text', { x: W / 2, y: 32, class: 'kind', 'text-anchor': 'middle' }, n.type || ''));
    const select = () => {
      boxes.forEach((g) => g.classList.remove('selected'));
      group.classList.add('selected');
      onSelect(n);
    };
    group.addEventListener('click', select);
    group.addEventListener('keydown', (e) => { if (e.key === 'Enter') select(); });
    boxes.set(n.id, group);
    root.append(group);
  }
  target.replaceChildren(root);
  return (id) => boxes.get(id)?.dispatchEvent(new Event('click'));
}
