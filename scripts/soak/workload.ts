/** What the soak asks for: the approvals (seeded) and the chaos events among them. */
import { prng } from '../../test/helpers/prng';

export const APPROVERS = ['ann', 'ben', 'cat'] as const;
export const ADMIN = 'root';
export const email = (name: string): string => `${name}@soak.example`;

/**
 * approve / deny: one approver decides (quorum 1). quorum: two approvals needed, both approve.
 * quorum-deny: one approves, the second denies. expire: nobody answers; the tier escalates to the
 * admins and the last tier expires (DENY).
 */
export type Kind = 'approve' | 'deny' | 'quorum' | 'quorum-deny' | 'expire';

export const CAPABILITY: Record<Kind, string> = { approve: 'soak.pay', deny: 'soak.pay', quorum: 'soak.quorum', 'quorum-deny': 'soak.quorum', expire: 'soak.expire' };

export interface PlannedVote {
  voter: string;
  choice: 'approve' | 'deny';
  channel: 'link' | 'api';
  /** Think time before voting, ms. */
  delayMs: number;
}

export interface Item {
  i: number;
  kind: Kind;
  actor: string;
  votes: PlannedVote[];
  /** What the agent must read at the end. */
  expect: { outcome: 'ALLOW' | 'DENY'; status: 'APPROVED' | 'DENIED' | 'EXPIRED'; decidedBy: string[] };
}

export function makeItems(n: number, seed: number): Item[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const vote = (voter: string, choice: 'approve' | 'deny'): PlannedVote => ({ voter, choice, channel: rnd() < 0.6 ? 'link' : 'api', delayMs: Math.round(100 + rnd() * 2400) });
  const items: Item[] = [];
  for (let i = 0; i < n; i++) {
    const r = rnd();
    const kind: Kind = r < 0.42 ? 'approve' : r < 0.66 ? 'deny' : r < 0.82 ? 'quorum' : r < 0.96 ? 'quorum-deny' : 'expire';
    const a = pick(APPROVERS);
    const b = pick(APPROVERS.filter((x) => x !== a));
    const actor = `soak-agent-${Math.floor(rnd() * 40)}`;
    let votes: PlannedVote[] = [];
    let expect: Item['expect'];
    switch (kind) {
      case 'approve':
        votes = [vote(a, 'approve')];
        expect = { outcome: 'ALLOW', status: 'APPROVED', decidedBy: [a] };
        break;
      case 'deny':
        votes = [vote(a, 'deny')];
        expect = { outcome: 'DENY', status: 'DENIED', decidedBy: [a] };
        break;
      case 'quorum':
        votes = [vote(a, 'approve'), vote(b, 'approve')];
        expect = { outcome: 'ALLOW', status: 'APPROVED', decidedBy: [a, b] };
        break;
      case 'quorum-deny':
        votes = [vote(a, 'approve'), vote(b, 'deny')];
        // decidedBy keeps the approval before the deny.
        expect = { outcome: 'DENY', status: 'DENIED', decidedBy: [a, b] };
        break;
      default:
        expect = { outcome: 'DENY', status: 'EXPIRED', decidedBy: [] };
    }
    items.push({ i, kind, actor, votes, expect });
  }
  return items;
}

export type ChaosKind = 'worker-kill' | 'api-term' | 'api-kill' | 'temporal-term' | 'temporal-kill';

export interface ChaosEvent {
  kind: ChaosKind;
  /** Fires once this fraction of the approvals has been accepted. */
  at: number;
  /** Extra random wait after the threshold, and the outage before the restart, ms. */
  jitterMs: number;
  downMs: number;
}

/**
 * 6 worker SIGKILLs, 3 API restarts (1 SIGTERM, 2 SIGKILL) and 2 Temporal restarts (1 SIGTERM,
 * 1 SIGKILL), at random points while approvals are in flight. Under 200 approvals the counts
 * scale down, to at least one of each.
 */
export function makeChaos(n: number, seed: number): ChaosEvent[] {
  const rnd = prng(seed ^ 0x5eed);
  // From 200 approvals up, the whole set; below, fewer (at least one of each) so a short run is not all restarts.
  const scale = (base: number) => (n >= 200 ? base : Math.max(1, Math.round((base * n) / 200)));
  const kinds: ChaosKind[] = [
    ...Array<ChaosKind>(scale(6)).fill('worker-kill'),
    ...Array<ChaosKind>(scale(1)).fill('api-term'),
    ...Array<ChaosKind>(scale(2)).fill('api-kill'),
    ...Array<ChaosKind>(scale(1)).fill('temporal-term'),
    ...Array<ChaosKind>(scale(1)).fill('temporal-kill'),
  ];
  // Shuffle the kinds, then give them sorted random thresholds between 4% and 88% accepted.
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j], kinds[i]];
  }
  const ats = kinds.map(() => 0.04 + rnd() * 0.84).sort((x, y) => x - y);
  return kinds.map((kind, k) => ({ kind, at: ats[k], jitterMs: Math.round(rnd() * 1500), downMs: Math.round(kind.startsWith('temporal') ? 500 + rnd() * 3000 : rnd() * 2000) }));
}
