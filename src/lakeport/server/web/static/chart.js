// A small SVG line chart of [time, value] points (metric charts); drawing only.
const NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}

export function lineChart(points, title, { width = 560, height = 180 } = {}) {
  const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': title });
  root.append(svg('text', { x: 8, y: 14, class: 'title' }, title));
  if (!points.length) {
    root.append(svg('text', { x: 8, y: 40, class: 'axis' }, 'No data points.'));
    return root;
  }
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs) || 1];
  const [y0, y1] = [Math.min(0, ...ys), Math.max(...ys) || 1];
  const px = (x) => 40 + ((x - x0) / (x1 - x0 || 1)) * (width - 50);
  const py = (y) => height - 24 - ((y - y0) / (y1 - y0 || 1)) * (height - 48);
  root.append(svg('line', { x1: 40, y1: height - 24, x2: width - 10, y2: height - 24, class: 'axis-line' }));
  root.append(svg('text', { x: 4, y: py(y1) + 4, class: 'axis' }, String(Math.round(y1 * 100) / 100)));
  root.append(svg('text', { x: 4, y: height - 20, class: 'axis' }, String(Math.round(y0 * 100) / 100)));
  const clock = (t) => new Date(t).toLocaleTimeString(undefined, { hour12: false, hour: '2-digit', minute: '2-digit' });
  root.append(svg('text', { x: 40, y: height - 4, class: 'axis' }, clock(x0)));
  root.append(svg('text', { x: width - 10, y: height - 4, class: 'axis', 'text-anchor': 'end' }, clock(x1)));
  const d = points.map((p, i) => `${i ? 'L' : 'M'}${px(p[0]).toFixed(1)} ${py(p[1]).toFixed(1)}`).join(' ');
  root.append(svg('path', { d, class: 'series' }));
  for (const p of points) root.append(svg('circle', { cx: px(p[0]), cy: py(p[1]), r: 2.5, class: 'point' }));
  return root;
}
