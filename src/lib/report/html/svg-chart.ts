/**
 * Line charts over time as inline SVG: no script, no library, no network. The
 * SVG scales to its container (viewBox), so the page reads in a narrow window
 * and prints. Each series is one <path data-series="name">, named in a legend.
 */

export interface Series {
  name: string
  /** [x, y] with x in seconds since the start of the run; y null for a gap. */
  points: [number, number | null][]
  /** Draw as a dashed line (references such as limits). */
  dashed?: boolean
  /** Mark every point with a dot (a curve of a few measured points). */
  dots?: boolean
}

export interface LineChartOptions {
  /** Stable id for tests and anchors, e.g. "throughput". */
  id: string
  title: string
  /** Unit of the y axis, shown in the title, e.g. "logs/s". */
  unit: string
  series: Series[]
  /** Horizontal reference lines, e.g. a limit. */
  references?: {name: string; value: number}[]
  /** How y values are written on the axis. */
  format?: (value: number) => string
  /** How x values are written on the axis (default: seconds, "12 s"). */
  xFormat?: (value: number) => string
  /** Vertical reference lines at an x value, e.g. a maximum found. */
  markers?: {name: string; x: number}[]
  /** A sentence under the chart. */
  note?: string
  /** The x axis, seconds: every chart of a run passes the run's own span, so they line up. */
  xRange?: [number, number]
  /** Vertical marks at these x values (stage boundaries), labelled in the plot. */
  boundaries?: {at: number; label: string}[]
}

/** Okabe–Ito: distinguishable with the common colour-vision deficiencies, and in grey when printed. */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000']

const W = 720
const H = 240
const PAD = {bottom: 30, left: 64, right: 12, top: 12}

export function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;')
}

/** 1, 2 or 5 times a power of ten, at least `value`. */
export function niceCeiling(value: number): number {
  if (!(value > 0)) return 1
  const power = 10 ** Math.floor(Math.log10(value))
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power
  return 10 * power
}

export function compactNumber(value: number): string {
  const abs = Math.abs(value)
  const trim = (n: number) => (Number.isInteger(n) ? String(n) : Number(n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)).toString())
  if (abs >= 1e9) return `${trim(value / 1e9)}G`
  if (abs >= 1e6) return `${trim(value / 1e6)}M`
  if (abs >= 1e3) return `${trim(value / 1e3)}k`
  if (abs > 0 && abs < 1) return value.toFixed(2).replace(/0+$/, '').replace(/\.$/, '')
  return trim(value)
}

const num = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1))

function pathOf(points: [number, number | null][], x: (v: number) => number, y: (v: number) => number): string {
  let d = ''
  let pen = false
  for (const [px, py] of points) {
    if (py === null || !Number.isFinite(py)) {
      pen = false
      continue
    }

    d += `${pen ? 'L' : 'M'}${num(x(px))} ${num(y(py))}`
    pen = true
  }

  return d
}

export function lineChart(options: LineChartOptions): string {
  const format = options.format ?? compactNumber
  const values = options.series.flatMap((s) => s.points.map(([, v]) => v).filter((v): v is number => v !== null && Number.isFinite(v)))
  const refs = options.references ?? []
  const xs = [...options.series.flatMap((s) => s.points.map(([x]) => x)), ...(options.markers ?? []).map((m) => m.x), ...(options.xRange ?? [])]
  const title = `${options.title}${options.unit ? ` (${options.unit})` : ''}`
  const xFormat = options.xFormat ?? ((v: number) => `${compactNumber(v)} s`)
  const markers = options.markers ?? []
  const legendItems = [
    ...options.series.map((s, i) => ({dashed: s.dashed, name: s.name, color: PALETTE[i % PALETTE.length]})),
    ...refs.map((r) => ({color: '#555', dashed: true, name: `${r.name} = ${format(r.value)}`})),
    ...markers.map((m) => ({color: '#555', dashed: true, name: `${m.name}: ${xFormat(m.x)}`})),
  ]
  const legend = `<ul class="legend">${legendItems
    .map((item) => `<li data-series="${escapeHtml(item.name)}"><span class="swatch${item.dashed ? ' dashed' : ''}" style="border-color:${item.color}"></span>${escapeHtml(item.name)}</li>`)
    .join('')}</ul>`
  const head = `<figure class="chart" id="chart-${escapeHtml(options.id)}" data-chart="${escapeHtml(options.id)}"><figcaption>${escapeHtml(title)}</figcaption>`
  if (values.length === 0 || xs.length === 0) {
    return `${head}<p class="empty">No data in this run.</p>${options.note ? `<p class="note">${escapeHtml(options.note)}</p>` : ''}</figure>`
  }

  // About five grid steps of a round size.
  const yStep = niceCeiling(Math.max(...values, ...refs.map((r) => r.value)) / 5)
  const ySteps = Math.max(1, Math.ceil(Math.max(...values, ...refs.map((r) => r.value)) / yStep))
  const yMax = yStep * ySteps
  const xMin = Math.min(...xs)
  const xMax = Math.max(...xs, xMin + 1)
  const plotW = W - PAD.left - PAD.right
  const plotH = H - PAD.top - PAD.bottom
  const x = (v: number) => PAD.left + ((v - xMin) / (xMax - xMin)) * plotW
  const y = (v: number) => PAD.top + plotH - (Math.max(0, v) / yMax) * plotH
  const parts: string[] = []
  // Grid and y labels.
  for (let i = 0; i <= ySteps; i++) {
    const value = yStep * i
    const py = y(value)
    parts.push(`<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${num(py)}" y2="${num(py)}"/>`)
    parts.push(`<text class="ylabel" x="${PAD.left - 6}" y="${num(py + 4)}" text-anchor="end">${escapeHtml(format(value))}</text>`)
  }

  // x ticks: about six, on whole seconds.
  const span = xMax - xMin
  const step = niceCeiling(span / 6)
  for (let t = Math.ceil(xMin / step) * step; t <= xMax + 1e-9; t += step) {
    const px = x(t)
    parts.push(`<line class="tick" x1="${num(px)}" x2="${num(px)}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH + 4}"/>`)
    parts.push(`<text class="xlabel" x="${num(px)}" y="${H - 10}" text-anchor="middle">${escapeHtml(xFormat(t))}</text>`)
  }

  parts.push(`<line class="axis" x1="${PAD.left}" x2="${W - PAD.right}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}"/>`)
  for (const marker of options.boundaries ?? []) {
    if (marker.at < xMin || marker.at > xMax) continue
    const px = num(x(marker.at))
    parts.push(`<line class="marker" data-marker="${escapeHtml(marker.label)}" x1="${px}" x2="${px}" y1="${PAD.top}" y2="${PAD.top + plotH}"/>`)
    parts.push(`<text class="marker-label" x="${num(x(marker.at) + 3)}" y="${PAD.top + 10}">${escapeHtml(marker.label)}</text>`)
  }

  for (const ref of refs) {
    const py = num(y(ref.value))
    parts.push(`<line class="reference" data-reference="${escapeHtml(ref.name)}" x1="${PAD.left}" x2="${W - PAD.right}" y1="${py}" y2="${py}"/>`)
  }

  for (const marker of markers) {
    const px = num(x(marker.x))
    parts.push(`<line class="reference" data-marker="${escapeHtml(marker.name)}" x1="${px}" x2="${px}" y1="${PAD.top}" y2="${PAD.top + plotH}"/>`)
  }

  for (const [i, series] of options.series.entries()) {
    const color = PALETTE[i % PALETTE.length]
    const finite = series.points.filter(([, v]) => v !== null && Number.isFinite(v)) as [number, number][]
    const dash = series.dashed ? ' stroke-dasharray="6 4"' : ''
    if (finite.length === 1) {
      parts.push(`<circle class="series" data-series="${escapeHtml(series.name)}" cx="${num(x(finite[0][0]))}" cy="${num(y(finite[0][1]))}" r="3" fill="${color}"/>`)
    } else {
      parts.push(`<path class="series" data-series="${escapeHtml(series.name)}" d="${pathOf(series.points, x, y)}" stroke="${color}"${dash}/>`)
      if (series.dots) for (const [px, py] of finite) parts.push(`<circle class="dot" data-dot="${escapeHtml(series.name)}" cx="${num(x(px))}" cy="${num(y(py))}" r="3" fill="${color}"/>`)
    }
  }

  const svg = `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(title)}" preserveAspectRatio="xMidYMid meet"><title>${escapeHtml(title)}</title>${parts.join('')}</svg>`
  return `${head}${svg}${legend}${options.note ? `<p class="note">${escapeHtml(options.note)}</p>` : ''}</figure>`
}
