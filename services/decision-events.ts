import { Client } from 'pg';

/** The channel the `decisions_final_notify` trigger (migration DecisionFinalNotify) speaks on, with the decision's id. */
export const DECISION_FINAL_CHANNEL = 'arbiter_decision_final';

/**
 * Wakes long polls the moment a decision becomes final, in whichever process
 * finalized it (the worker, usually): a trigger NOTIFYs on commit and this
 * process LISTENs. One connection per process, opened on the first wait. While
 * it is down the long poll simply re-reads on its own timer, so a lost
 * notification costs latency, never a wrong answer.
 */
export class DecisionEvents {
  private client: Client | null = null;
  private connecting: Promise<void> | null = null;
  private closed = false;
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(private readonly databaseUrl: string) {}

  /** Whether notifications are being received (the long poll may then re-read rarely). */
  get listening(): boolean {
    return this.client !== null;
  }

  /** Resolves when decision `id` is announced final, or after `ms`, whichever comes first. */
  wait(id: string, ms: number): Promise<void> {
    if (!this.client && !this.connecting && !this.closed) this.connecting = this.connect().finally(() => (this.connecting = null));
    return new Promise((ok) => {
      const set = this.waiters.get(id) ?? new Set<() => void>();
      this.waiters.set(id, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && this.waiters.get(id) === set) this.waiters.delete(id);
        ok();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.connecting?.catch(() => undefined);
    const c = this.client;
    this.client = null;
    if (c) {
      c.removeAllListeners('error');
      c.on('error', () => undefined);
      await c.end().catch(() => undefined);
    }
  }

  private async connect(): Promise<void> {
    const c = new Client({ connectionString: this.databaseUrl, application_name: 'arbiter-decision-events' });
    c.on('notification', (n) => {
      if (n.channel !== DECISION_FINAL_CHANNEL || !n.payload) return;
      for (const wake of [...(this.waiters.get(n.payload) ?? [])]) wake();
    });
    c.on('error', () => {
      // Reconnected by the next wait; meanwhile long polls re-read on their timer.
      if (this.client === c) this.client = null;
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${DECISION_FINAL_CHANNEL}`);
      if (this.closed) await c.end();
      else this.client = c;
    } catch {
      await c.end().catch(() => undefined);
    }
  }
}
