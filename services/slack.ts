import { createHmac, timingSafeEqual } from 'node:crypto';
import { LogLevel, WebClient } from '@slack/web-api';
import type { Logger as SlackLogger } from '@slack/web-api';

/** A Block Kit message: the fallback text and its blocks. */
export interface SlackMessage {
  text: string;
  blocks: object[];
}

export interface SlackOptions {
  token: string;
  /** The Web API's base URL (`slackApiUrl`); tests point it at a local stand-in. */
  apiUrl?: string;
  timeoutMs: number;
  /** Retries of the client itself on network errors and 5xx; rate limits (429) are waited out by the client. */
  retries: number;
}

const quiet: SlackLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
};

/**
 * Arbiter's door to Slack's Web API, through `@slack/web-api`'s WebClient: direct
 * messages to approvers, channel posts, message updates, the deny modal and
 * ephemeral refusals. Every call may throw; callers decide whether that is retried
 * (activities) or reported (the interactivity route).
 */
export class SlackGateway {
  private readonly client: WebClient;

  constructor(opts: SlackOptions) {
    this.client = new WebClient(opts.token, {
      slackApiUrl: opts.apiUrl,
      timeout: opts.timeoutMs,
      retryConfig: { retries: opts.retries, factor: 2, minTimeout: 200, maxTimeout: 5000, randomize: true },
      logger: quiet,
      logLevel: LogLevel.ERROR,
    });
  }

  /** The Slack user id of an email address, or null when the workspace has nobody with it. */
  async lookupByEmail(email: string): Promise<string | null> {
    try {
      const r = await this.client.users.lookupByEmail({ email });
      return r.user?.id ?? null;
    } catch (e) {
      if ((e as { data?: { error?: string } }).data?.error === 'users_not_found') return null;
      throw e;
    }
  }

  /** Opens (or reuses) the direct conversation with a user and posts there. */
  async dm(userId: string, msg: SlackMessage): Promise<{ channel: string; ts: string }> {
    const conv = await this.client.conversations.open({ users: userId });
    const channel = conv.channel?.id;
    if (!channel) throw new Error('conversations.open answered no channel');
    return this.post(channel, msg);
  }

  async post(channel: string, msg: SlackMessage): Promise<{ channel: string; ts: string }> {
    const r = await this.client.chat.postMessage({ channel, text: msg.text, blocks: msg.blocks as never, unfurl_links: false });
    if (!r.ts || !r.channel) throw new Error('chat.postMessage answered no ts');
    return { channel: r.channel, ts: r.ts };
  }

  async update(channel: string, ts: string, msg: SlackMessage): Promise<void> {
    await this.client.chat.update({ channel, ts, text: msg.text, blocks: msg.blocks as never });
  }

  async openModal(triggerId: string, view: object): Promise<void> {
    await this.client.views.open({ trigger_id: triggerId, view: view as never });
  }

  async ephemeral(channel: string, user: string, text: string): Promise<void> {
    await this.client.chat.postEphemeral({ channel, user, text });
  }
}

/** A Slack channel a rule names: `#name` and ids as given; `slack-name` (the seeds' form) is `#name`. */
export function slackChannelOf(ref: string): string {
  const c = ref.trim();
  if (c.startsWith('#') || /^[CGD][A-Z0-9]{6,}$/.test(c)) return c;
  return `#${c.replace(/^slack[-:]/, '')}`;
}

const FIVE_MINUTES = 300;

/**
 * Slack's v0 request signature: `v0=` + hex HMAC-SHA256(signing secret, `v0:<ts>:<raw body>`),
 * compared in constant time, with the timestamp within five minutes of `nowSeconds`
 * (a replayed request is refused). Checked over the raw bytes before anything is parsed.
 */
export function verifySlackSignature(
  secret: string,
  req: { timestamp: string | undefined; signature: string | undefined; body: Buffer },
  nowSeconds: number,
): { ok: true } | { ok: false; problem: 'SIGNATURE_MISSING' | 'SIGNATURE_STALE' | 'SIGNATURE_INVALID' } {
  if (!req.timestamp || !req.signature) return { ok: false, problem: 'SIGNATURE_MISSING' };
  if (!/^\d{1,12}$/.test(req.timestamp)) return { ok: false, problem: 'SIGNATURE_INVALID' };
  if (Math.abs(nowSeconds - Number(req.timestamp)) > FIVE_MINUTES) return { ok: false, problem: 'SIGNATURE_STALE' };
  const mac = createHmac('sha256', secret).update(`v0:${req.timestamp}:`).update(req.body).digest('hex');
  const expected = Buffer.from(`v0=${mac}`);
  const given = Buffer.from(req.signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, problem: 'SIGNATURE_INVALID' };
  return { ok: true };
}
