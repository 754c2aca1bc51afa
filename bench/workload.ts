// Deterministic workloads for the evaluator benchmarks: rule sets, policies and proposals
// generated from a seeded PRNG, so every run measures the same work.
import type { PolicyDef } from '../engine/policy-schema';
import type { Proposal, RuleAction, SmartRuleDef } from '../engine/types';
import { DEFAULT_WARDN_SETTINGS, PRINCIPLES } from '../engine/wardn';
import type { WardnData } from '../engine/wardn';
import { prng } from '../test/helpers/prng';

const SERVICES = Array.from({ length: 40 }, (_, i) => `svc${i}`);
const OPS = ['read', 'list', 'create', 'update', 'delete', 'transfer', 'export', 'deploy'];
const ENVS = ['production', 'staging', 'development'];
const CLASSES = ['PII', 'PHI', 'PCI', 'internal', 'public'];

export interface BenchRule {
  def: SmartRuleDef;
  /** The same rule as a Cedar policy (a forbid carrying the rule's effect). */
  cedar: string;
}

/** `n` rules over capabilities, amounts, environments, targets and data classes. */
export function makeRules(n: number, seed = 1): BenchRule[] {
  const rnd = prng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const actions: RuleAction[] = ['REQUIRE_APPROVAL', 'DENY', 'ESCALATE', 'NOTIFY', 'AUTO_APPROVE'];
  const out: BenchRule[] = [];
  for (let i = 0; i < n; i++) {
    const cap = `${pick(SERVICES)}.${pick(OPS)}`;
    const amount = Math.floor(rnd() * 100_000);
    const env = pick(ENVS);
    const action = pick(actions);
    const kind = i % 4;
    let conditions: Record<string, unknown>;
    let when: string;
    if (kind === 0) {
      conditions = { action_type: cap, 'parameters.amount': { $gte: amount } };
      when = `context.parameter_amount >= ${amount}`;
    } else if (kind === 1) {
      conditions = { action_type: cap, environment: { $in: [env, 'prod'] } };
      when = `["${env}", "prod"].contains(context.environment)`;
    } else if (kind === 2) {
      const cls = pick(CLASSES);
      pick(CLASSES); // a draw the seeded stream has always had here: the rule sets stay those of earlier runs
      conditions = { action_type: cap, data_classes: { $contains: cls } };
      when = `context.data_classes.contains("${cls}")`;
    } else {
      conditions = { action_type: cap, target: { $regex: `^db-${i % 10}` } };
      when = `context.target like "db-${i % 10}*"`;
    }
    out.push({
      def: { id: `rule_${i}`, name: `rule ${i}`, priority: Math.floor(rnd() * 1000), isActive: true, conditions, action },
      cedar: `@id("rule_${i}")\n@effect("${action}")\nforbid(principal, action == Action::"${cap}", resource) when { ${when} };`,
    });
  }
  return out;
}

export interface BenchPolicy {
  def: PolicyDef & { id: string };
  cedar: string;
}

/** `n` agent policies: deny lists, allow lists and approval thresholds, scoped to agents or global. */
export function makePolicies(n: number, seed = 2): BenchPolicy[] {
  const rnd = prng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const out: BenchPolicy[] = [];
  for (let i = 0; i < n; i++) {
    const agent = `agent-${i % 50}`;
    const global = i % 10 === 0;
    const denied = [`${pick(SERVICES)}.delete`, `${pick(SERVICES)}.*`];
    const threshold = 1000 + Math.floor(rnd() * 50_000);
    const def: PolicyDef & { id: string } = {
      id: `pol_${i}`,
      name: `policy ${i}`,
      is_active: true,
      scope: global ? 'global' : 'agent',
      ...(global ? {} : { target_id: agent }),
      priority: 0,
      denied_actions: denied,
      approval_threshold_usd: threshold,
    } as PolicyDef & { id: string };
    const principal = global ? 'principal' : `principal == Agent::"${agent}"`;
    const likes = denied.map((d) => `context.capability like "${d}"`).join(' || ');
    out.push({
      def,
      cedar: `@id("pol_${i}_deny")\nforbid(${principal}, action, resource) when { ${likes} };\n@id("pol_${i}_approval")\n@effect("REQUIRE_APPROVAL")\nforbid(${principal}, action, resource) when { context.amount >= ${threshold} };`,
    });
  }
  return out;
}

/** Proposals that hit the generated rules' capabilities some of the time. */
export function makeProposals(n: number, seed = 3): Proposal[] {
  const rnd = prng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  return Array.from({ length: n }, (_, i) => ({
    actor: { id: `agent-${i % 60}`, type: 'ai-agent' },
    action: { capability: `${pick(SERVICES)}.${pick(OPS)}`, parameters: { amount: Math.floor(rnd() * 120_000), note: 'bench' } },
    target: `db-${Math.floor(rnd() * 20)}`,
    environment: pick(ENVS),
    context: { sessionId: `s${i % 100}`, runId: `r${i % 200}`, metadata: {} },
    dataClasses: rnd() < 0.3 ? [pick(CLASSES)] : [],
    amount: Math.floor(rnd() * 120_000),
  }));
}

/** WARDN data for the bench: every actor registered, 20 confidence floors, all four principles, a model registry. */
export function makeWardn(proposals: Proposal[]): WardnData {
  const agents = new Map([...new Set(proposals.map((p) => p.actor.id))].map((id) => [id, { id, status: 'active' as const, allowedEnvironments: [], allowedModels: [] }]));
  const floors = Array.from({ length: 20 }, (_, i) => ({ id: `flr${i}`, actionType: `${SERVICES[i % SERVICES.length]}.*`, environment: i % 2 ? '*' : 'production', floors: { fix: 0.7, incident: 0.5 } }));
  const models = new Map(['gpt-4o', 'claude-sonnet'].map((id) => [id, { id, provider: 'p', channels: ['API'], dataClasses: ['PII'], agreements: ['DPA'], priceInputPer1k: 0.003, priceOutputPer1k: 0.015, status: 'approved' as const }]));
  return { agents, floors, models, settings: { ...DEFAULT_WARDN_SETTINGS, principles: [...PRINCIPLES], freezeWindows: [{ from: 0, until: 1 }] } };
}
