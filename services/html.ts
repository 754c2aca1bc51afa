/**
 * The one HTML escaper: every mail and page that shows agent-supplied text goes through it.
 */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * `value` as text safe inside HTML element content and quoted attribute values:
 * `& < > " '` become entities. Null and undefined become '' (not "null").
 */
export function escapeHtml(value: unknown): string {
  if (value === null || value === undefined) return '';
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c]);
}
