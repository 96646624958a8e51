/** The one stylesheet of Cinder's web UIs (served at /static/cinder.css by ./static.ts). */
export const CSS = `
:root { --fg:#1d2329; --muted:#5b6570; --line:#d9dee3; --bg:#fff; --head:#23303d; --accent:#d9480f; --ok:#2b8a3e; --bad:#c92a2a; --run:#1971c2; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--fg); background:var(--bg); }
header { background:var(--head); color:#fff; padding:8px 16px; display:flex; gap:16px; align-items:center; flex-wrap:wrap; }
header .brand { font-weight:700; color:#ffa94d; }
header .product { color:#ced4da; }
header nav { display:flex; gap:4px; flex-wrap:wrap; }
header nav a { color:#e9ecef; text-decoration:none; padding:4px 10px; border-radius:4px; }
header nav a.active, header nav a:hover { background:#3b4b5c; }
main { padding:12px 16px 32px; }
h1 { font-size:20px; margin:4px 0 12px; }
h2 { font-size:16px; margin:20px 0 8px; }
table { border-collapse:collapse; width:100%; margin:4px 0 12px; }
th, td { text-align:left; padding:4px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:#f1f3f5; font-weight:600; position:sticky; top:0; }
tr:hover td { background:#f8f9fa; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
a { color:var(--run); }
.muted { color:var(--muted); }
.kv { display:grid; grid-template-columns:max-content 1fr; gap:2px 16px; margin:8px 0; }
.kv dt { color:var(--muted); } .kv dd { margin:0; }
.state { font-weight:600; }
.state.RUNNING, .state.ACCEPTED, .state.ACTIVE { color:var(--run); }
.state.FINISHED, .state.SUCCEEDED, .state.COMPLETE { color:var(--ok); }
.state.FAILED, .state.KILLED { color:var(--bad); }
.bar { background:#e9ecef; border-radius:3px; height:14px; min-width:120px; position:relative; overflow:hidden; }
.bar > span { position:absolute; left:0; top:0; bottom:0; background:#74c0fc; }
.bar > span.ok { background:#8ce99a; } .bar > span.bad { background:#ffa8a8; }
pre { background:#f8f9fa; padding:8px; overflow:auto; }
form.filters { display:flex; gap:8px; margin:8px 0; align-items:center; flex-wrap:wrap; }
`;
