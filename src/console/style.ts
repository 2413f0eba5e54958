// The console's and demo's one stylesheet: readable at 1280 px and at phone width, visible focus
// for keyboard users, no web fonts or CDN (the console works offline).
export const STYLESHEET = `
:root { --fg:#1b1f24; --muted:#5b6470; --line:#d9dee4; --bg:#f6f7f9; --card:#fff; --accent:#0b5cad;
  --ok:#17733a; --warn:#9a5b00; --bad:#b42318; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
* { box-sizing: border-box; }
body { margin:0; color:var(--fg); background:var(--bg); font-size:15px; line-height:1.45; }
a { color:var(--accent); }
:focus-visible { outline:3px solid #f2a900; outline-offset:2px; }
.skip { position:absolute; left:-999px; top:0; background:#fff; padding:.5rem; }
.skip:focus { left:.5rem; z-index:10; }
header.top { background:#14213d; color:#fff; padding:.5rem 1rem; display:flex; flex-wrap:wrap; gap:.25rem 1rem; align-items:center; }
header.top a { color:#fff; text-decoration:none; padding:.25rem .4rem; border-radius:4px; }
header.top a[aria-current="page"] { background:rgba(255,255,255,.18); }
header.top .brand { font-weight:700; margin-right:.5rem; }
header.top nav { display:flex; flex-wrap:wrap; gap:.15rem; flex:1; }
header.top .who { font-size:.9rem; display:flex; gap:.5rem; align-items:center; }
main { padding:1rem; max-width:1400px; margin:0 auto; }
h1 { font-size:1.4rem; margin:.25rem 0 1rem; }
h2 { font-size:1.1rem; margin:1.5rem 0 .5rem; }
.card { background:var(--card); border:1px solid var(--line); border-radius:6px; padding:1rem; margin-bottom:1rem; }
.grid { display:grid; grid-template-columns:repeat(auto-fit, minmax(220px, 1fr)); gap:.75rem; }
.stat { display:block; background:var(--card); border:1px solid var(--line); border-radius:6px; padding:.75rem 1rem; text-decoration:none; color:var(--fg); }
.stat .n { font-size:1.6rem; font-weight:700; display:block; }
.stat.alert .n { color:var(--bad); }
.table-wrap { overflow-x:auto; background:var(--card); border:1px solid var(--line); border-radius:6px; }
table { border-collapse:collapse; width:100%; }
th, td { text-align:left; padding:.4rem .6rem; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:#eef1f4; font-weight:600; white-space:nowrap; }
td.num { text-align:right; font-variant-numeric:tabular-nums; }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size:.85rem; }
pre { white-space:pre-wrap; word-break:break-all; background:#f0f2f5; padding:.5rem; border-radius:4px; margin:.25rem 0; max-height:20rem; overflow:auto; }
.badge { display:inline-block; padding:.05rem .45rem; border-radius:999px; font-size:.8rem; font-weight:600; background:#e5e8ec; }
.badge.PAID, .badge.SUCCEEDED, .badge.delivered, .badge.ok { background:#dcf3e3; color:var(--ok); }
.badge.PAYING, .badge.PENDING, .badge.CREATING, .badge.CLOSING, .badge.pending, .badge.RUNNING { background:#fff1d6; color:var(--warn); }
.badge.EXCEPTION, .badge.FAILED, .badge.dead, .badge.refused, .badge.bad { background:#fde2df; color:var(--bad); }
.notice { padding:.6rem .8rem; border-radius:6px; margin-bottom:1rem; border:1px solid; }
.notice.ok { background:#ecf8f0; border-color:#9fd8b1; }
.notice.error { background:#fdeceb; border-color:#f2b3ad; }
form.inline { display:inline; }
form.stack label { display:block; margin:.5rem 0 .2rem; font-weight:600; }
form.filters { display:flex; flex-wrap:wrap; gap:.5rem; align-items:flex-end; }
form.filters label { display:flex; flex-direction:column; font-size:.85rem; gap:.15rem; }
input, select, textarea, button { font:inherit; padding:.35rem .5rem; border:1px solid #aeb6bf; border-radius:4px; max-width:100%; }
textarea { width:100%; min-height:3rem; }
button, .button { background:var(--accent); color:#fff; border-color:var(--accent); cursor:pointer; text-decoration:none; display:inline-block; }
button.secondary { background:#fff; color:var(--accent); }
button.danger { background:var(--bad); border-color:var(--bad); }
button:disabled { opacity:.6; cursor:not-allowed; }
.actions { display:grid; grid-template-columns:repeat(auto-fit, minmax(260px, 1fr)); gap:.75rem; }
.actions form { background:var(--card); border:1px solid var(--line); border-radius:6px; padding:.75rem; }
.muted { color:var(--muted); }
.pager { display:flex; gap:1rem; margin:.75rem 0; }
dl.facts { display:grid; grid-template-columns:max-content 1fr; gap:.25rem 1rem; margin:0; }
dl.facts dt { color:var(--muted); }
dl.facts dd { margin:0; word-break:break-all; }
.timeline { list-style:none; padding:0; margin:0; }
.timeline li { border-left:3px solid var(--line); padding:.35rem .75rem; margin-left:.5rem; }
.timeline li.refused, .timeline li.problem { border-left-color:var(--bad); }
.timeline li.operator { border-left-color:var(--accent); }
.timeline .when { color:var(--muted); font-size:.85rem; }
details summary { cursor:pointer; }
.chart svg { width:100%; height:auto; max-height:220px; }
.signin { max-width:360px; margin:10vh auto; }
/* Relative: a visually hidden label inside a wide table stays in the table's scroll frame. */
.table-wrap { position:relative; }
.visually-hidden { position:absolute; width:1px; height:1px; overflow:hidden; clip:rect(0 0 0 0); white-space:nowrap; }
.badge.failed, .badge.gone { background:#fde2df; color:var(--bad); }
.card.once { border-color:var(--warn); border-width:2px; background:#fffbeb; }
code.secret { display:block; font-size:1rem; word-break:break-all; padding:.5rem; background:#fff; border:1px dashed var(--warn); user-select:all; }
fieldset { border:1px solid var(--line); border-radius:4px; margin:.5rem 0; }
form.stack label.check { display:block; font-weight:normal; margin:.2rem 0; }
details.evidence pre { min-width:16rem; }
input.wide { width:100%; }
@media (max-width: 640px) {
  main { padding:.5rem; }
  th, td { padding:.3rem .4rem; font-size:.9rem; }
  dl.facts { grid-template-columns:1fr; }
  dl.facts dt { margin-top:.4rem; }
}
.chart .bar { fill:var(--accent); }
.chart .axis { fill:var(--muted); font-size:11px; }
ul.summary { margin:0; padding-left:1.2rem; }
ul.summary li.ok { color:var(--ok); }
ul.summary li.problem { color:var(--bad); font-weight:600; }
.card > h2:first-child { margin-top:0; }
/* An order id in the title is one long word: it wraps rather than widen a phone's page. */
h1 { overflow-wrap:anywhere; }
`;
