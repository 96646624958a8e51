/**
 * Server-side HTML for the daemons' web UIs (RM, driver, history server): a tagged template that
 * escapes every interpolated value unless it is marked raw, and one page layout. Pages are rendered
 * on the server from the same data the REST endpoints answer with, so what a browser shows and what
 * REST says come from one place (docs/decisions/0015-web-ui.md).
 */

/** A fragment of HTML that is already safe to embed. */
export class Raw {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}

export const raw = (s: string): Raw => new Raw(s);

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESC[c] as string);
}

type Value = Raw | string | number | boolean | null | undefined | readonly Value[];

function render(v: Value): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Raw) return v.html;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

/** html`<p>${text}</p>`: interpolations are escaped; arrays are concatenated; Raw is kept as is. */
export function html(strings: TemplateStringsArray, ...values: Value[]): Raw {
  let out = strings[0] as string;
  for (let i = 0; i < values.length; i++) out += render(values[i] as Value) + (strings[i + 1] as string);
  return new Raw(out);
}

export interface NavLink {
  href: string;
  label: string;
}

export interface PageOptions {
  /** shown in the title bar and as the page heading */
  title: string;
  /** which product the page belongs to, e.g. "ResourceManager", "Cinder application", "History" */
  product: string;
  nav: readonly NavLink[];
  /** href of the nav entry to highlight */
  active?: string;
  body: Raw;
  /** reload the page every N seconds (live pages); omitted for static ones */
  refreshSeconds?: number;
  /** prefix of every absolute link of this UI ('' normally; the RM proxy path when proxied) */
  base?: string;
}

/** One full HTML page with the shared stylesheet and navigation. */
export function page(o: PageOptions): string {
  const base = o.base ?? '';
  const nav = o.nav.map(
    (l) => html`<a href="${base + l.href}" class="${l.href === o.active ? 'active' : ''}">${l.label}</a>`,
  );
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
${o.refreshSeconds ? raw(`<meta http-equiv="refresh" content="${o.refreshSeconds}">`) : ''}
<link rel="icon" href="data:,"><title>${o.title} · ${o.product}</title><link rel="stylesheet" href="${base}/static/cinder.css"></head>
<body><header><span class="brand">Cinder</span> <span class="product">${o.product}</span><nav>${nav}</nav></header>
<main><h1>${o.title}</h1>${o.body}</main></body></html>`.html;
}

/** A table from column headers and rows of cells (cells are escaped unless Raw). */
export function table(headers: readonly string[], rows: readonly (readonly Value[])[], id?: string): Raw {
  return html`<table${id ? raw(` id="${escapeHtml(id)}"`) : ''}><thead><tr>${headers.map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>${rows.map((r) => html`<tr>${r.map((c) => html`<td>${c}</td>`)}</tr>`)}</tbody></table>`;
}

/** Human-readable bytes (1.5 MiB) for tables. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 1024) return `${Math.max(0, Math.round(n || 0))} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** Human-readable duration (850 ms, 3.2 s, 4.0 min, 1.5 h). */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}
