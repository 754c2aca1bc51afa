import { z } from 'zod';

/**
 * All environment parsing, in one place. The only reader of `process.env`.
 * Defaults run locally against the machine's PostgreSQL and a dev Temporal server.
 */
const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  PUBLIC_URL: z.string().url().optional(),
  DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/arbiter'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(20),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('arbiter'),
  /** `all` runs API and worker in one process; `api` or `worker` for scale-out. */
  ARBITER_ROLE: z.enum(['all', 'api', 'worker']).default('all'),
  /** Sets the first admin key's value on first run (scripts, compose). */
  ARBITER_ADMIN_KEY: z.string().min(24).optional(),
  SMTP_URL: z.string().optional(),
  MAIL_FROM: z.string().default('Arbiter <arbiter@localhost>'),
  /** Secret that signs approval links; generated and stored in the database when unset. */
  APPROVAL_LINK_SECRET: z.string().min(16).optional(),
  /** Master secret of the callbacks' signatures (each organization's is derived from it); its own setting, rotated apart from the link secret. */
  WEBHOOK_SIGNING_SECRET: z.string().min(16).optional(),
  APPROVAL_TIER1_TIMEOUT_SECONDS: z.coerce.number().int().min(1).default(3600),
  APPROVAL_TIER2_TIMEOUT_SECONDS: z.coerce.number().int().min(1).default(14400),
  APPROVAL_QUORUM: z.coerce.number().int().min(1).default(1),
  /** WARDN escrows: a HELD action waits this long for people at tier B (10 minutes) and C (30 minutes), then ends BLOCKED. */
  WARDN_ESCROW_TIER_B_SECONDS: z.coerce.number().int().min(1).default(600),
  WARDN_ESCROW_TIER_C_SECONDS: z.coerce.number().int().min(1).default(1800),
  /** How often each API process looks for pending decisions whose workflow never started (a crash between commit and start). */
  PENDING_SWEEP_SECONDS: z.coerce.number().int().min(1).default(15),
  /** Workflows a worker keeps in memory; its memory is bounded by this, not by how many approvals are open. */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).default(1000),
  /** Hosts a proposal's `callback_url` may point at, comma-separated; `*` allows any (the worker POSTs there). */
  WEBHOOK_ALLOWED_HOSTS: z
    .string()
    .default('*')
    .transform((s) => s.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean)),
  /** Slack: the bot token (xoxb-…). Unset: Slack is off and approvers are reached by email only. */
  SLACK_BOT_TOKEN: z.string().min(1).optional(),
  /** Slack: the app's signing secret, which checks every POST to /slack/interactions. */
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  /** Slack's Web API base URL (the client's `slackApiUrl`); change it only to talk to a stand-in. */
  SLACK_API_URL: z.string().url().optional(),
  /** Per-call timeout of the Slack client, and its own retries on network errors and 5xx. */
  SLACK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  SLACK_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  /** An OpenAI-compatible chat-completions base URL used to turn prose into policy YAML. */
  LLM_BASE_URL: z.string().url().optional(),
  LLM_API_KEY: z.string().optional(),
  LLM_MODEL: z.string().default('gpt-4o-mini'),
  /** Propose requests per API key per minute, per process; 0 turns the limit off. Above it: 429. */
  PROPOSE_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(120_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof schema> & { PUBLIC_URL: string };

/** Parses the environment (or an override map, for tests) and fails fast with every bad variable named. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  return { ...c, PUBLIC_URL: (c.PUBLIC_URL ?? `http://localhost:${c.PORT}`).replace(/\/$/, '') };
}
