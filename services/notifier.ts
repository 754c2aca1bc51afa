import { performance } from 'node:perf_hooks';
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
 * How long an attempt holds a delivery. Longer than a send takes (the mailer's timeouts bound
 * each step of it, and a mail that reaches its commit point after three quarters of the lease
 * ends without the dot), so a retry takes over only from an attempt that died.
 */
export const DELIVERY_LEASE_SECONDS = 120;

/**
 * An email's commit point: both rows marked sent in one autocommit statement, written by the
 * mailer's `commit` hook just before the end-of-data dot (see `Notifier.email`).
 */
const MARK_MAIL_SENT = `WITH d AS (UPDATE deliveries SET status = 'sent', "sentAt" = now(), "claimedUntil" = NULL, error = NULL WHERE id = $1 RETURNING 1) UPDATE email_messages SET "sentAt" = now() WHERE id = $2`;

/** Undoes the commit point when the server did not accept the mail: pending, unclaimed, the error kept, so the retry sends. */
const UNMARK_MAIL = `WITH d AS (UPDATE deliveries SET status = 'pending', "sentAt" = NULL, "claimedUntil" = NULL, error = $3 WHERE id = $1 RETURNING 1) UPDATE email_messages SET "sentAt" = NULL WHERE id = $2`;

/** The attempt's hold on a delivery row. */
interface Lease {
  id: string;
  /** `performance.now()` after which this attempt no longer reaches a commit point: its lease may be running out. */
  commitBy: number;
}

/** The driver's pool (TypeORM's `driver.master`) and its clients, as much of them as the notifier uses. */
interface PgClient {
  query(sql: string, params: unknown[]): Promise<unknown>;
  release(destroy?: boolean): void;
  on(event: 'error', listener: (err: Error) => void): unknown;
  removeListener(event: 'error', listener: (err: Error) => void): unknown;
}
interface PgPool {
  connect(): Promise<PgClient>;
}

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
 * claimed before sending and marked sent, so a retried activity never sends twice, and
 * every Slack message can be updated later by its `ts`. Each send holds a lease on its
 * row, so two attempts never send the same delivery at once.
 *
 * A mail is marked sent at its commit point, just before the SMTP end-of-data dot (see
 * `email`), so a process killed at any moment does not send it twice. A Slack message is
 * marked after Slack answers: a crash in between resends it once, after the lease (at least
 * once; Slack's Web API takes no idempotency key).
 */
export class Notifier {
  private readonly leaseSeconds: number;

  constructor(
    private readonly ds: DataSource,
    private readonly mailer: Mailer,
    private readonly slack: SlackGateway | null,
    opts: { leaseSeconds?: number } = {},
  ) {
    this.leaseSeconds = opts.leaseSeconds ?? DELIVERY_LEASE_SECONDS;
  }

  get slackEnabled(): boolean {
    return this.slack !== null;
  }

  get mailTransport(): string {
    return this.mailer.transport;
  }

  /**
   * Mails `to` once per key. `build` runs once, in the transaction that stores the mail
   * (so a link it issues commits with it, and a retry resends that very mail).
   *
   * The commit point: the mailer hands the whole message to the SMTP socket, then calls
   * `commit`, which writes the `sent` mark (both rows, one autocommit statement) to a
   * PostgreSQL connection of its own, and then writes the end-of-data dot, in the same
   * synchronous stretch: the mark reaches the kernel first. Killed before the mark, the
   * server never gets the dot and discards the mail; the retry sends it after the lease.
   * Killed after both, the kernel still delivers both: PostgreSQL commits the mark, the
   * server accepts the mail, the retry finds it sent. Only a kill between the two writes
   * loses the mail (marked sent, never ended): at most once in that sliver, which the
   * approval's escalation on silence covers. A server that refuses the mail after the dot,
   * or a connection that fails, undoes the mark, so the retry sends.
   */
  async email(orgId: string, k: DeliveryKey, to: string, mailKey: string, build: (em: EntityManager) => Promise<Mail>): Promise<Sent> {
    return this.once(orgId, k, 'email', async (lease) => {
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
      return this.sendMail(lease, row);
    });
  }

  /**
   * One send of a stored mail with its commit point. A connection of its own, checked out
   * before the send and idle, so the mark's `query` writes to its socket at once (pg submits
   * to an idle client synchronously, corked and uncorked). Everything after the send uses
   * that connection too, and the pool is asked for nothing while it is held.
   */
  private async sendMail(lease: Lease, row: EmailMessage): Promise<{ providerId: string | null }> {
    const client = await (this.ds.driver as unknown as { master: PgPool }).master.connect();
    // A checked-out client has no listener of the pool's: a connection lost meanwhile must not crash the process.
    const conn = { lost: false };
    const lost = () => {
      conn.lost = true;
    };
    client.on('error', lost);
    let released = false;
    const release = (destroy = false) => {
      if (released) return;
      released = true;
      client.removeListener('error', lost);
      client.release(destroy);
    };
    const marked: { p?: Promise<unknown> } = {};
    try {
      let res: { messageId: string | null };
      try {
        res = await this.mailer.send(
          { to: row.to, subject: row.subject, text: row.text, html: row.html, messageId: `<${row.id}@arbiter>` },
          {
            commit: () => {
              if (marked.p) throw new Error('commit point reached twice');
              // Past this, the lease may run out before the server answers and a retry could send beside us.
              if (performance.now() > lease.commitBy) throw new Error('delivery lease about to run out at the end of data: not sent');
              // The mark could not be written: end the send without the dot, so the retry sends.
              if (conn.lost) throw new Error('lost the connection for the sent mark before the end of data: not sent');
              marked.p = client.query(MARK_MAIL_SENT, [lease.id, row.id]);
              // Awaited below, after the server's answer; this only keeps a failure meanwhile from going unhandled.
              marked.p.catch(() => undefined);
            },
          },
        );
      } catch (e) {
        if (marked.p) {
          // Failed after the commit point (refused, or the connection failed): undo the mark so the retry sends.
          const error = String((e as Error).message ?? e).slice(0, 500);
          await marked.p.catch(() => undefined);
          await client
            .query(UNMARK_MAIL, [lease.id, row.id, error])
            .catch(async () => {
              release(true);
              await this.ds.query(UNMARK_MAIL, [lease.id, row.id, error]);
            })
            // PostgreSQL unreachable as well: the row stays marked and this mail is not retried (the sliver's loss).
            .catch(() => undefined);
        }
        throw e;
      }
      if (!marked.p) {
        // A mailer that took no commit point (a test double): mark after the send, at least once.
        await client.query(MARK_MAIL_SENT, [lease.id, row.id]);
      } else {
        try {
          await marked.p;
        } catch {
          // The server accepted the mail but the mark's connection failed: mark it on another one.
          // (Undoing it instead would make the retry send the mail a second time.)
          release(true);
          await this.ds.query(MARK_MAIL_SENT, [lease.id, row.id]);
        }
      }
      await (released ? this.ds : client).query(`UPDATE email_messages SET "providerMessageId" = $2 WHERE id = $1`, [row.id, res.messageId]);
      return { providerId: res.messageId ?? row.id };
    } finally {
      release(conn.lost);
    }
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

  private async once(orgId: string, k: DeliveryKey, channel: 'email' | 'slack', send: (lease: Lease) => Promise<{ providerChannel?: string; providerId?: string | null }>): Promise<Sent> {
    const key = keyOf(k, channel);
    const repo = this.ds.getRepository(Delivery);
    await this.ds.query(
      `INSERT INTO deliveries (id, "orgId", "approvalId", tier, step, channel, recipient, key, "onBehalfOf", status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending') ON CONFLICT (key) DO NOTHING`,
      [newId('dlv'), orgId, k.approvalId, k.tier, k.step, channel, k.recipient, key, k.onBehalfOf ?? null],
    );
    // One attempt at a time holds the lease: a retry started while a slow attempt still runs
    // (a timed-out activity is not stopped) waits for it instead of sending beside it.
    // Timed from before the claim: the lease in PostgreSQL starts later, never earlier.
    const claimedAt = performance.now();
    const claimed = (await this.ds.query(
      `UPDATE deliveries SET "claimedUntil" = now() + make_interval(secs => $2) WHERE key = $1 AND status <> 'sent' AND ("claimedUntil" IS NULL OR "claimedUntil" < now()) RETURNING id`,
      [key, this.leaseSeconds],
    )) as [{ id: string }[], number] | { id: string }[];
    const claimedRows = Array.isArray(claimed[0]) ? (claimed[0] as { id: string }[]) : (claimed as { id: string }[]);
    if (claimedRows.length === 0) {
      const row = await repo.findOneByOrFail({ key });
      if (row.status === 'sent') return 'skipped';
      throw new DeliveryInProgress(key);
    }
    const lease: Lease = { id: claimedRows[0].id, commitBy: claimedAt + this.leaseSeconds * 750 };
    try {
      const r = await send(lease);
      // A mail is already marked (at its commit point): this adds the provider's id and keeps its sentAt.
      await this.ds.query(`UPDATE deliveries SET status = 'sent', "sentAt" = COALESCE("sentAt", now()), "claimedUntil" = NULL, "providerChannel" = $2, "providerId" = $3, error = NULL WHERE id = $1`, [
        lease.id,
        r.providerChannel ?? null,
        r.providerId ?? null,
      ]);
      return 'sent';
    } catch (e) {
      // A failed send gives the lease back: the retry may go at once.
      await repo.update({ id: lease.id }, { claimedUntil: null, error: String((e as Error).message ?? e).slice(0, 500) }).catch(() => undefined);
      throw e;
    }
  }
}
