import type { Response } from 'express';
import { escapeHtml } from '../services/html';

/** The one HTML layout of Arbiter's pages (approval links today, the console next). */
export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)} · Arbiter</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
pre{background:#f5f5f5;padding:.75rem;overflow:auto;border-radius:6px}dt{font-weight:600}dd{margin:0 0 .5rem}
button{font-size:1rem;padding:.6rem 1.4rem;margin-right:.5rem;border-radius:6px;border:1px solid #888;cursor:pointer}
.approve{background:#1f7a3a;color:#fff;border-color:#1f7a3a}.deny{background:#b3261e;color:#fff;border-color:#b3261e}
textarea{width:100%;min-height:4rem}.muted{color:#666}</style></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

/**
 * A page reached by a credential link: never cached, never leaked in a Referer, never framed
 * by another site (clickjacking the Approve button), nothing loaded from elsewhere.
 */
export function pageHeaders(res: Response): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
}
