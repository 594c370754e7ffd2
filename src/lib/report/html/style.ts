/** The report's stylesheet: readable from a phone-wide window to a printed A4 page. */
export const STYLE = `
:root { color-scheme: light; --fg: #1b1b1b; --muted: #5c5c5c; --line: #d8d8d8; --bad: #b00020; --ok: #116b2f; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #fff; }
main { max-width: 980px; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.4em; margin: 0.2em 0 0.4em; overflow-wrap: anywhere; }
h2 { font-size: 1.15em; margin: 1.4em 0 0.5em; border-bottom: 1px solid var(--line); padding-bottom: 0.2em; }
h3 { font-size: 1em; margin: 1em 0 0.3em; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 8px; margin: 12px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; }
.card .k { color: var(--muted); font-size: 0.85em; }
.card .v { font-size: 1.1em; font-weight: 600; font-variant-numeric: tabular-nums; }
.verdict { border-left: 4px solid #0072B2; padding: 2px 12px; background: #f4f8fb; }
.verdict h2 { border: 0; margin-top: 0.6em; }
.warnings { border-left: 4px solid #D55E00; padding: 2px 12px; background: #fdf5ef; }
.warnings h2 { border: 0; margin-top: 0.6em; }
.chart { margin: 14px 0 22px; break-inside: avoid; page-break-inside: avoid; }
.chart figcaption { font-weight: 600; margin-bottom: 4px; }
.chart svg { width: 100%; height: auto; display: block; }
.chart .grid { stroke: #ececec; stroke-width: 1; }
.chart .axis, .chart .tick { stroke: #777; stroke-width: 1; }
.chart .reference { stroke: #555; stroke-width: 1.5; stroke-dasharray: 4 4; }
.chart .marker { stroke: #999; stroke-width: 1; stroke-dasharray: 2 3; }
.chart .marker-label { font-size: 10px; fill: #555; }
.chart .series { fill: none; stroke-width: 2; stroke-linejoin: round; }
.chart circle.series { stroke: none; }
.chart text { font-size: 15px; fill: #444; font-family: inherit; }
.legend { list-style: none; margin: 4px 0 0; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 0.9em; }
.legend .swatch { display: inline-block; width: 18px; height: 0; border-top: 3px solid; vertical-align: middle; margin-right: 6px; }
.legend .swatch.dashed { border-top-style: dashed; }
.note, .muted, .empty { color: var(--muted); font-size: 0.9em; margin: 4px 0; }
.bad { color: var(--bad); font-weight: 600; }
.ok { color: var(--ok); }
dl { display: grid; grid-template-columns: minmax(120px, max-content) 1fr; gap: 2px 14px; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; font-size: 0.92em; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th.num, td.num { text-align: right; }
@media (max-width: 560px) { body { font-size: 14px; } main { padding: 10px; } dl { grid-template-columns: 1fr; } dt { margin-top: 6px; } }
@media print {
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  .verdict, .warnings { background: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  section, table { break-inside: auto; }
  .scroll { overflow: visible; }
}
`

/** A whole self-contained page: inline styles only (the page's own after the common ones), nothing fetched. */
export function htmlPage(title: string, body: string, extraStyle = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${title}</title>
<style>${STYLE}${extraStyle}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`
}
