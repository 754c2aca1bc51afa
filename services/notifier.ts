import type { DataSource, EntityManager } from 'typeorm';
import { Delivery, EmailMessage } from '../entities';
import { newId } from './ids';
import type { Mailer } from './mailer';
import type { SlackGateway, SlackMessage } from './slack';

/** Where one delivery belongs: (approval, tier, step) and its recipient on a channel. */
export interface DeliveryKey {
  /** An approval id, or `notify-<decisionId>` / `alert-<id>` for notices outside approvals. */
  approvalId: string;
  tier: number;
  /** `request`, `reminder-<n>`, `notice`, `test-alert`. */
  step: string;
  /** A person id, an email address or a Slack channel. */
  recipient: string;
  onBehalfOf?: string;
}

export interface Mail {
  subject: string;
  text: string;
  html: string;
}

export type Sent = 'sent' | 'skipped';

/**
 * How long an attempt holds a delivery. Longer than any one send can take (the mailer's
 * own timeouts end a send within a minute), so a retry takes over only from an attempt that died.
 */
export const DELIVERY_LEASE_SECONDS = 120;

/** Another attempt holds the delivery right now: retried later, when it has sent or its lease has run out. */
export class DeliveryInProgress extends Error {
  constructor(key: string) {
    super(`delivery ${key} is being sent by another attempt`);
    this.name = 'DeliveryInProgress';
  }
}

const keyOf = (k: DeliveryKey, channel: string): string => `${k.approvalId}:${k.tier}:${k.step}:${channel}:${k.recipient}`;

/**
 * Sends approval requests, reminders and notices on its channels (email, Slack)
 * through one delivery log: a row per (approval, tier, step, channel, recipient) is
 * claimed before sending and marked sent with the provider's id after, so a retried
 * activity never sends twice, and every Slack message can be updated later by its `ts`.
 * Each send holds a lease on its row, so two attempts never send the same delivery at
 * once. (A crash after the provider accepted but before the mark resends once, after the
 * lease: at least once, never silently lost.)
 */
export class Notifier {
  constructor(
    private readonly ds: DataSource,
    private readonly mailer: Mailer,
    private readonly slack: SlackGateway | null,
  ) {}

  get slackEnabled(): boolean {
    return this.slack !== null;
  }

  get mailTransport(): string {
    return this.mailer.transport;
  }

  /**
   * Mails `to` once per key. `build` runs once, in the transaction that stores the mail
   * (so a link it issues commits with it, and a retry resends that very mail).
   */
  async email(orgId: string, k: DeliveryKey, to: string, mailKey: string, build: (em: EntityManager) => Promise<Mail>): Promise<Sent> {
    return this.once(orgId, k, 'email', async () => {
      let row = await this.ds.getRepository(EmailMessage).findOne({ where: { idempotencyKey: mailKey } });
      if (row?.sentAt) return { providerId: row.providerMessageId };
      if (!row) {
        row = await this.ds.transaction(async (em) => {
          const mail = await build(em);
          const r = em.create(EmailMessage, { id: newId('msg'), orgId, idempotencyKey: mailKey, to, ...mail, transport: this.mailer.transport, sentAt: null, providerMessageId: null });
          await em.insert(EmailMessage, r);
          return r;
        });
      }
      const res = await this.mailer.send({ to: row.to, subject: row.subject, text: row.text, html: row.html, messageId: `<${row.id}@arbiter>` });
      await this.ds.getRepository(EmailMessage).update({ id: row.id }, { sentAt: new Date(), providerMessageId: res.messageId });
      return { providerId: res.messageId ?? row.id };
    });
  }

  /** Direct-messages a Slack user once per key. */
  async slackDm(orgId: string, k: DeliveryKey, slackUserId: string, build: () => Promise<SlackMessage>): Promise<Sent> {
    const slack = this.requireSlack();
    return this.once(orgId, k, 'slack', async () => {
      const r = await slack.dm(slackUserId, await build());
      return { providerChannel: r.channel, providerId: r.ts };
    });
  }

  /** Posts to a Slack channel once per key. */
  async slackPost(orgId: string, k: DeliveryKey, channel: string, msg: SlackMessage): Promise<Sent> {
    const slack = this.requireSlack();
    return this.once(orgId, k, 'slack', async () => {
      const r = await slack.post(channel, msg);
      return { providerChannel: r.channel, providerId: r.ts };
    });
  }

  /** Every Slack message an approval sent that Slack accepted. */
  async slackMessagesOf(approvalId: string): Promise<Delivery[]> {
    return this.ds.getRepository(Delivery).find({ where: { approvalId, channel: 'slack', status: 'sent' }, order: { createdAt: 'ASC' } });
  }

  /** Rewrites a message already sent (`chat.update`). */
  async updateSlack(d: Delivery, msg: SlackMessage): Promise<void> {
    if (!d.providerChannel || !d.providerId) return;
    await this.requireSlack().update(d.providerChannel, d.providerId, msg);
    await this.ds.getRepository(Delivery).update({ id: d.id }, { updatedAt: new Date() });
  }

  /** Marks what never got through after every retry, so the log says so. */
  async markFailed(approvalId: string, channel: string, step: string, error: string): Promise<void> {
    await this.ds.query(`UPDATE deliveries SET status = 'failed', error = $4 WHERE "approvalId" = $1 AND channel = $2 AND step = $3 AND status = 'pending'`, [approvalId, channel, step, error.slice(0, 500)]);
  }

  private requireSlack(): SlackGateway {
    if (!this.slack) throw new Error('Slack is not configured (SLACK_BOT_TOKEN)');
    return this.slack;
  }

  private async once(orgId: string, k: DeliveryKey, channel: 'email' | 'slack', send: () => Promise<{ providerChannel?: string; providerId?: string | null }>): Promise<Sent> {
    const key = keyOf(k, channel);
    const repo = this.ds.getRepository(Delivery);
    await this.ds.query(
      `INSERT INTO deliveries (id, "orgId", "approvalId", tier, step, channel, recipient, key, "onBehalfOf", status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending') ON CONFLICT (key) DO NOTHING`,
      [newId('dlv'), orgId, k.approvalId, k.tier, k.step, channel, k.recipient, key, k.onBehalfOf ?? null],
    );
    // One attempt at a time holds the lease: a retry started while a slow attempt still runs
    // (a timed-out activity is not stopped) waits for it instead of sending beside it.
    const claimed = (await this.ds.query(
      `UPDATE deliveries SET "claimedUntil" = now() + make_interval(secs => $2) WHERE key = $1 AND status <> 'sent' AND ("claimedUntil" IS NULL OR "claimedUntil" < now()) RETURNING id`,
      [key, DELIVERY_LEASE_SECONDS],
    )) as [{ id: string }[], number] | { id: string }[];
    const claimedRows = Array.isArray(claimed[0]) ? (claimed[0] as { id: string }[]) : (claimed as { id: string }[]);
    if (claimedRows.length === 0) {
      const row = await repo.findOneByOrFail({ key });
      if (row.status === 'sent') return 'skipped';
      throw new DeliveryInProgress(key);
    }
    const row = { id: claimedRows[0].id };
    try {
      const r = await send();
      await repo.update({ id: row.id }, { status: 'sent', sentAt: new Date(), claimedUntil: null, providerChannel: r.providerChannel ?? null, providerId: r.providerId ?? null, error: null });
      return 'sent';
    } catch (e) {
      // A failed send gives the lease back: the retry may go at once.
      await repo.update({ id: row.id }, { claimedUntil: null, error: String((e as Error).message ?? e).slice(0, 500) }).catch(() => undefined);
      throw e;
    }
  }
}
