import pino from 'pino';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import { createDataSource, ensureDatabase } from '../entities/data-source';
import { ApprovalLinks } from './approval-links';
import { AuditLog } from './audit-log';
import { ApiKeyService } from './auth';
import { bootstrap, readSetting } from './bootstrap';
import { createMailer } from './mailer';
import { Metrics } from './metrics';
import type { Mailer } from './mailer';
import { PolicyStore } from './policy-store';
import { WebhookSigner } from './webhooks';
import { ApprovalRecords } from './approval-records';
import { Notifier } from './notifier';
import { People } from './people';
import { SlackGateway } from './slack';

/** The pieces both the API and the worker are built from. */
export interface Core {
  config: Config;
  log: Logger;
  ds: DataSource;
  audit: AuditLog;
  keys: ApiKeyService;
  store: PolicyStore;
  links: ApprovalLinks;
  mailer: Mailer;
  metrics: Metrics;
  webhooks: WebhookSigner;
  /** Slack's Web API, when SLACK_BOT_TOKEN is set. */
  slack: SlackGateway | null;
  people: People;
  notifier: Notifier;
  records: ApprovalRecords;
  /** The admin key created on this start (first run only), to print once. */
  createdAdminKey: string | null;
  close(): Promise<void>;
}

/**
 * Connects to PostgreSQL (creating the database on first run), migrates,
 * bootstraps, and builds the shared services. `migrate: false` for processes
 * that must not race the migrator.
 */
export async function createCore(config: Config, opts: { log?: Logger; migrate?: boolean; appName?: string } = {}): Promise<Core> {
  const log = opts.log ?? pino({ level: config.LOG_LEVEL, base: { svc: opts.appName ?? 'arbiter' } });
  if (opts.migrate !== false) {
    if (await ensureDatabase(config.DATABASE_URL)) log.info('created database');
  }
  const ds = createDataSource(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE, appName: opts.appName });
  await ds.initialize();
  if (opts.migrate !== false) {
    // One migrator at a time when several processes start together.
    await ds.query('SELECT pg_advisory_lock(727274)');
    try {
      const ran = await ds.runMigrations({ transaction: 'each' });
      if (ran.length) log.info({ migrations: ran.map((m) => m.name) }, 'ran migrations');
    } finally {
      await ds.query('SELECT pg_advisory_unlock(727274)');
    }
  }
  const metrics = new Metrics();
  const audit = new AuditLog(ds, metrics);
  const { createdAdminKey } = opts.migrate !== false ? await bootstrap(ds, audit, { adminKey: config.ARBITER_ADMIN_KEY }) : { createdAdminKey: null };
  const secret = config.APPROVAL_LINK_SECRET ?? (await readSetting(ds, 'approval_link_secret'));
  if (!secret) throw new Error('approval link secret missing: start the API once (it creates one) or set APPROVAL_LINK_SECRET');
  const webhookSecret = config.WEBHOOK_SIGNING_SECRET ?? (await readSetting(ds, 'webhook_signing_secret')) ?? secret;
  const store = new PolicyStore(ds, config.DATABASE_URL);
  const mailer = createMailer({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM });
  const slack = config.SLACK_BOT_TOKEN
    ? new SlackGateway({ token: config.SLACK_BOT_TOKEN, apiUrl: config.SLACK_API_URL, timeoutMs: config.SLACK_TIMEOUT_MS, retries: config.SLACK_RETRIES })
    : null;
  return {
    config,
    log,
    ds,
    audit,
    keys: new ApiKeyService(ds),
    store,
    links: new ApprovalLinks(ds, secret),
    mailer,
    slack,
    people: new People(ds, slack),
    notifier: new Notifier(ds, mailer, slack),
    records: new ApprovalRecords(ds),
    metrics,
    webhooks: new WebhookSigner(webhookSecret),
    createdAdminKey,
    async close() {
      await store.close();
      if (ds.isInitialized) await ds.destroy();
    },
  };
}
