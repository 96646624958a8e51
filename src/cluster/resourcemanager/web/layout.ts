/** The RM UI's shared bits: navigation, the page frame, state labels, usage bars, links. */
import { html, page, type Raw, raw } from '../../../web/html.js';

export const NAV = [
  { href: '/cluster', label: 'Overview' },
  { href: '/cluster/scheduler', label: 'Scheduler' },
  { href: '/cluster/apps', label: 'Applications' },
  { href: '/cluster/nodes', label: 'Nodes' },
  { href: '/logout', label: 'Sign out' },
];

export function rmPage(title: string, active: string, body: Raw, user: string, refreshSeconds?: number): string {
  return page({
    title,
    product: 'ResourceManager',
    nav: NAV,
    active,
    refreshSeconds,
    body: html`<p class="muted" id="signed-in">signed in as <b>${user}</b></p>${body}`,
  });
}

export const state = (s: string): Raw => html`<span class="state ${s}">${s}</span>`;

/** A usage bar with its percentage written next to it. */
export function bar(pct: number): Raw {
  const p = Math.max(0, Math.min(100, Number.isFinite(pct) ? pct : 0));
  return html`<div class="bar" title="${pct.toFixed(1)}%"><span style="width:${raw(p.toFixed(1))}%"></span></div>`;
}

export const appLink = (id: string): Raw => html`<a href="/cluster/app/${id}">${id}</a>`;

export const when = (ms: number): string => (ms > 0 ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : '');

export const num = (n: number | string): Raw => html`<span class="num">${n}</span>`;
