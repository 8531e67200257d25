// The dashboard's stylesheet, inlined into the page: system fonts, a light layout that fits a 1366-pixel
// laptop screen and a 390-pixel phone without the page scrolling sideways (wide tables scroll inside their
// card), status colours that also read in grey (a word beside each).
export const DASHBOARD_CSS = `
:root { --fg: #1d2330; --muted: #667085; --line: #e4e7ec; --bg: #f6f7f9; --card: #fff;
  --ok: #1e7b46; --ok-bg: #e3f4ea; --bad: #b42318; --bad-bg: #fdecea; --warn: #a15c07; --warn-bg: #fef3e2;
  --info: #175cd3; --info-bg: #e8f0fd; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
.top { display: flex; justify-content: space-between; align-items: center; gap: 16px;
  padding: 14px 24px; background: var(--card); border-bottom: 1px solid var(--line); }
h1 { font-size: 20px; margin: 0; }
h2 { font-size: 15px; margin: 0 0 10px; }
h3 { font-size: 14px; margin: 0; }
p { margin: 4px 0; }
main { max-width: 1400px; margin: 0 auto; padding: 16px 24px; display: grid; gap: 16px; }
footer { max-width: 1400px; margin: 0 auto; padding: 0 24px 24px; }
a { color: var(--info); }
code { font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; }
.muted { color: var(--muted); }
.bad { color: var(--bad); font-weight: 600; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; min-width: 0; }
.grid4 { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 12px; }
.grid2 { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 16px; }
.grid2.even { grid-template-columns: repeat(2, minmax(0, 1fr)); }
.grid3 { display: grid; grid-template-columns: minmax(0, 4fr) minmax(0, 4fr) minmax(0, 3fr); gap: 12px 28px; }
@media (max-width: 1100px) { .grid4 { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  .grid2, .grid2.even, .grid3 { grid-template-columns: minmax(0, 1fr); } }
@media (max-width: 720px) { .grid4 { grid-template-columns: minmax(0, 1fr); }
  .top { flex-wrap: wrap; padding: 12px; } main { padding: 12px; gap: 12px; } footer { padding: 0 12px 16px; }
  .card { padding: 12px; } }
.period header { display: flex; justify-content: space-between; align-items: center; margin-bottom: 8px; }
dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 3px 10px; margin: 0; font-size: 13px; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
.period dd code, .period [data-field="lag"] { white-space: nowrap; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600;
  background: var(--info-bg); color: var(--info); white-space: nowrap; }
.badge-completed, .badge-succeeded { background: var(--ok-bg); color: var(--ok); }
.badge-failed { background: var(--bad-bg); color: var(--bad); }
.badge-running, .badge-skipped { background: var(--warn-bg); color: var(--warn); }
.badge-scheduled { background: var(--line); color: var(--muted); }
.health { display: flex; gap: 8px; list-style: none; margin: 0; padding: 0; }
.health li { padding: 3px 10px; border-radius: 12px; font-size: 13px; font-weight: 600; }
.health li.ok { background: var(--ok-bg); color: var(--ok); }
.health li.bad { background: var(--bad-bg); color: var(--bad); }
.figures { display: flex; flex-wrap: wrap; gap: 8px 28px; list-style: none; padding: 0; margin: 0 0 8px; }
.figure { font-size: 20px; font-weight: 650; margin-right: 4px; }
.chart { width: 100%; margin-top: 6px; }
.chart.empty { color: var(--muted); padding: 12px 0; }
/* A table keeps its columns readable and scrolls sideways inside its card when the card is narrower. */
.table-scroll { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; font-size: 13px; table-layout: auto; }
th { text-align: left; color: var(--muted); font-weight: 500; border-bottom: 1px solid var(--line); padding: 4px 6px; }
td { border-bottom: 1px solid var(--line); padding: 5px 6px; vertical-align: top; }
.num { text-align: right; white-space: nowrap; }
.error { color: var(--bad); margin-top: 6px; font-size: 13px; overflow-wrap: anywhere; }
.error code { color: var(--bad); font-weight: 600; margin-right: 4px; }
.failures { list-style: none; padding: 0; margin: 0; display: grid; gap: 8px; }
.failures li { border-left: 3px solid var(--bad); padding-left: 8px; }
.reason { color: var(--muted); font-size: 12px; overflow-wrap: anywhere; min-width: 14em; }
.payload-col { width: 34%; }
.payload { display: block; min-width: 16em; white-space: pre-wrap; overflow-wrap: anywhere; color: #344054; }
.usage { font-size: 13px; margin-bottom: 10px; }
.bar { height: 8px; background: var(--line); border-radius: 4px; overflow: hidden; margin-top: 3px; }
.bar span { display: block; height: 100%; background: var(--ok); }
.bar span.full { background: var(--bad); }
.capacity-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr)); gap: 12px 20px; margin-top: 8px; }
.capacity header { display: flex; justify-content: space-between; align-items: center; }
.capacity p { font-size: 13px; overflow-wrap: anywhere; }
`;
