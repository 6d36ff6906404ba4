/// The report's only stylesheet, inlined into the page. System fonts only, so nothing is fetched.
let reportStylesheet = """
:root {
  --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --panel: #f6f8fa; --page: #ffffff;
  --web: #1f6feb; --synthetic: #8250df; --human: #1a7f64; --neutral: #57606a;
  --kept: #1a7f37; --dropped: #cf222e; --pending: #9a6700;
}
* { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif;
  font-size: 15px; line-height: 1.45; color: var(--ink); background: var(--page); }
body { margin: 0; }
header, main, footer { max-width: 1240px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 24px; }
h1 { font-size: 1.7rem; margin: 0 0 8px; }
h2 { font-size: 1.25rem; margin: 32px 0 12px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 1rem; margin: 0; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 0.9em; }
.meta { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 2px 16px; margin: 0 0 12px; }
.meta dt { color: var(--muted); }
.meta dd { margin: 0; overflow-wrap: anywhere; }
nav { display: flex; flex-wrap: wrap; gap: 4px 18px; font-size: 0.95rem; }
nav a { color: var(--web); text-decoration: none; }
nav a:hover { text-decoration: underline; }
.notes { margin: 12px 0 0; padding-left: 20px; color: var(--muted); }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; }
.tile { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.tile .value { font-size: 1.6rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.tile .label { color: var(--muted); font-size: 0.9rem; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
table.data { width: 100%; }
.data th, .data td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
.data th { font-weight: 600; white-space: nowrap; }
.data thead th { background: var(--panel); }
.data td.num, .data th.num { text-align: right; white-space: nowrap; }
.empty { color: var(--muted); font-style: italic; }
.bar { display: flex; width: 160px; height: 10px; border-radius: 5px; overflow: hidden; background: var(--line); margin-top: 5px; }
.bar span { display: block; height: 100%; }
.bar .done, .bar .kept { background: var(--kept); }
.bar .pending, .bar .duplicates { background: var(--pending); }
.bar .failed, .bar .dropped { background: var(--dropped); }
.chips { display: flex; flex-wrap: wrap; gap: 4px; }
.chip { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 0 8px; font-size: 0.85rem; white-space: nowrap; }
.chip b { font-weight: 600; font-variant-numeric: tabular-nums; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 20px; }
figure { margin: 0; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; min-width: 0; }
figcaption { font-weight: 600; margin-bottom: 2px; }
figure .summary { color: var(--muted); font-size: 0.9rem; margin: 0 0 6px; }
figure svg { display: block; width: 100%; height: auto; }
.histdata { width: 100%; margin-top: 8px; font-size: 0.8rem; table-layout: fixed; }
.histdata th, .histdata td { padding: 1px 2px; text-align: right; border-bottom: 1px solid var(--line); white-space: nowrap; }
.histdata tr:nth-child(2n+1) th, .histdata tr:nth-child(2n+1) td { padding-top: 5px; }
.histdata th { color: var(--muted); font-weight: normal; }
.histdata th[scope=row] { text-align: left; width: 3.2em; }
.histdata td.below { color: var(--dropped); }
svg .gridline { stroke: var(--line); stroke-width: 1; }
svg .axis { stroke: var(--muted); stroke-width: 1; }
svg .tick { fill: var(--muted); }
svg .threshold { stroke: var(--ink); stroke-width: 1.5; stroke-dasharray: 5 3; }
svg .threshold-label { fill: var(--ink); font-weight: 600; }
svg .bar-web { fill: var(--web); } svg .bar-synthetic { fill: var(--synthetic); }
svg .bar-human { fill: var(--human); } svg .bar-neutral { fill: var(--neutral); }
svg .bar-below { fill: var(--dropped); opacity: 0.75; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.legend { display: flex; gap: 16px; color: var(--muted); font-size: 0.85rem; margin-top: 4px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
.hint { color: var(--muted); font-size: 0.88rem; margin: 0 0 12px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(370px, 1fr)); gap: 16px; }
.card { border: 1px solid var(--line); border-radius: 8px; overflow: hidden; background: var(--page); break-inside: avoid; min-width: 0; }
.card-head { display: flex; gap: 12px; padding: 10px; background: var(--panel); border-bottom: 1px solid var(--line); }
.thumb { flex: none; width: 128px; height: 128px; object-fit: contain; background: #e6e9ed; border-radius: 4px; }
.nothumb { display: flex; align-items: center; justify-content: center; color: var(--muted); font-size: 0.8rem; }
.card-id { min-width: 0; }
.card-id h3 { overflow-wrap: anywhere; }
.source { color: var(--muted); font-size: 0.82rem; overflow-wrap: anywhere; margin: 4px 0 0; }
.texts { width: 100%; font-size: 0.88rem; }
.texts th { font-size: 0.78rem; color: var(--muted); font-weight: 600; text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); }
.texts td { padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
.texts tr:last-child td { border-bottom: none; }
.texts td.num, .texts th.num { text-align: right; white-space: nowrap; }
.texts tr.dropped .caption { color: var(--muted); text-decoration: line-through; text-decoration-color: rgba(207, 34, 46, 0.6); }
.texts .badge { margin-right: 2px; }
.texts td.text { overflow-wrap: anywhere; }
.reason { display: block; font-size: 0.78rem; color: var(--muted); text-decoration: none; }
.badge { display: inline-block; border-radius: 4px; padding: 0 5px; font-size: 0.75rem; font-weight: 600; color: #fff; white-space: nowrap; }
.badge.web { background: var(--web); }
.badge.synthetic { background: var(--synthetic); }
.badge.human { background: var(--human); }
.decision { font-weight: 600; font-size: 0.8rem; white-space: nowrap; }
.decision.kept { color: var(--kept); }
.decision.dropped { color: var(--dropped); }
.decision.pending { color: var(--pending); }
.swatch.web { background: var(--web); } .swatch.synthetic { background: var(--synthetic); }
.swatch.human { background: var(--human); } .swatch.neutral { background: var(--neutral); }
.swatch.below { background: var(--dropped); }
footer { color: var(--muted); font-size: 0.85rem; margin-top: 32px; padding-top: 12px; padding-bottom: 24px; border-top: 1px solid var(--line); }
@media (max-width: 760px) { .meta { grid-template-columns: max-content 1fr; } .charts { grid-template-columns: 1fr; } }
@media print {
  html { font-size: 11pt; }
  nav { display: none; }
  h2 { break-after: avoid; }
  figure, .card, tr { break-inside: avoid; }
}
"""
