import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Arbiter-Signature';

/**
 * Signs the callbacks Arbiter POSTs to agents (`callback_url`) so a receiver can
 * tell them from forgeries: `X-Arbiter-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
 * Each organization has its own secret, derived from the server's master secret,
 * read by its admins at GET /api/v1/webhooks/secret.
 */
export class WebhookSigner {
  constructor(private readonly master: string) {}

  secretFor(orgId: string): string {
    return `whsec_${createHmac('sha256', this.master).update(`webhook:${orgId}`).digest('base64url')}`;
  }

  sign(orgId: string, body: string, unixSeconds: number): string {
    return signature(this.secretFor(orgId), body, unixSeconds);
  }
}

function mac(secret: string, body: string, t: number): Buffer {
  return createHmac('sha256', secret).update(`${t}.${body}`).digest();
}

function signature(secret: string, body: string, t: number): string {
  return `t=${t},v1=${mac(secret, body, t).toString('hex')}`;
}

/** What a receiver runs: true when the header signs this body with this secret, within `toleranceSeconds` of now. */
export function verifyWebhookSignature(secret: string, body: string, header: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  const parts = Object.fromEntries(header.split(',').map((kv) => kv.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds || typeof parts.v1 !== 'string') return false;
  const expected = mac(secret, body, t);
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Whether a callback URL may be used: http(s), and its host on the allow-list (`*` allows any host). */
export function callbackAllowed(url: string, allowedHosts: readonly string[]): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return false;
  return allowedHosts.includes('*') || allowedHosts.includes(u.hostname.toLowerCase());
}
