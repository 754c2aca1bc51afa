import { Router } from 'express';
import { z } from 'zod';
import { validateRiskConfig } from '../../engine/risk';
import { compileRule } from '../../engine/rules';
import type { RiskConfig, RuleAction, SmartRuleDef } from '../../engine/types';
import type { Simulation } from '../../entities';
import { badRequest, notFound } from '../../services/errors';
import { checkPolicy } from '../../services/policy-service';
import type { SimDraft } from '../../services/simulator';
import type { ApiDeps } from '../deps';
import { route } from '../http';

const RuleIn = z.object({
  rule_id: z.string().optional(),
  name: z.string().min(1).max(200),
  priority: z.number().int().default(0),
  is_active: z.boolean().default(true),
  conditions: z.record(z.string(), z.unknown()),
  action: z.enum(['AUTO_APPROVE', 'REQUIRE_APPROVAL', 'DENY', 'ESCALATE', 'NOTIFY']),
  approval_level: z.number().int().min(1).max(10).optional(),
});

const SimIn = z
  .object({
    since: z.iso.datetime({ offset: true }),
    until: z.iso.datetime({ offset: true }).optional(),
    policy: z.record(z.string(), z.unknown()).optional().describe('A draft PolicyCreate document'),
    policy_id: z.string().optional().describe('The policy the draft replaces (else it is added)'),
    rules: z.array(RuleIn).max(5000).optional().describe('A whole draft rule set, replacing the live one'),
    rule: RuleIn.optional().describe('One draft rule, added or replacing rule_id'),
    risk_config: z.object({ weights: z.record(z.string(), z.number()).optional(), thresholds: z.record(z.string(), z.number()).optional(), modifiers: z.record(z.string(), z.number()).optional() }).optional(),
  })
  .strict();

const simOut = (s: Simulation) => ({ simulation_id: s.id, status: s.status, processed: s.processed, total: s.total, result: s.result, error: s.error, created_at: s.createdAt.toISOString(), finished_at: s.finishedAt?.toISOString() ?? null });

const toRuleDef = (r: z.output<typeof RuleIn>, i: number): SmartRuleDef => ({ id: r.rule_id ?? `draft_${i}`, name: r.name, priority: r.priority, isActive: r.is_active, conditions: r.conditions, action: r.action as RuleAction, approvalLevel: r.approval_level });

/** Simulate a draft policy, rule set or risk configuration against stored proposals. */
export function simulationsRouter(deps: ApiDeps): Router {
  const r = Router();
  const { docs, keys, simulator, audit } = deps;
  const tags = ['Agent policies'];

  route(r, docs, keys, {
    method: 'post', path: '/api/v1/policies/simulate', summary: 'What would change: evaluate a draft against the stored proposals of a window', tags, scope: 'governance:write', body: SimIn,
    description: 'Each stored proposal is evaluated twice, with the live configuration and with the draft, at its own time, with no counters spent and the allowed actions of its run before it as evidence. Small windows answer at once (200, status done); larger ones answer 202 and run in the background: poll GET /api/v1/simulations/{id}.',
    responses: { 200: { description: 'Done: `{simulation_id, status, result: {total, changed, flips, top_actors, top_capabilities, samples}}`' }, 202: { description: 'Running; poll for progress' }, 400: { description: 'Invalid draft' } },
  }, async ({ res, body, principal }) => {
    if (!body.policy && !body.rules && !body.rule && !body.risk_config) throw badRequest('VALIDATION_FAILED', 'give a draft: policy, rules, rule or risk_config', 'policy');
    const draft: SimDraft = {};
    if (body.policy) draft.policy = checkPolicy(body.policy);
    if (body.policy_id) draft.policyId = body.policy_id;
    try {
      // Compiling proves each draft rule is valid before any evaluation.
      if (body.rules) {
        draft.rules = body.rules.map(toRuleDef);
        draft.rules.forEach((d) => compileRule(d));
      }
      if (body.rule) {
        draft.rule = toRuleDef(body.rule, 0);
        compileRule(draft.rule);
      }
    } catch (e) {
      throw badRequest('RULE_INVALID', (e as Error).message, 'rules');
    }
    if (body.risk_config) {
      const v = validateRiskConfig(body.risk_config as Partial<RiskConfig>);
      if (!v.ok) throw badRequest('RISK_CONFIG_INVALID', `${v.errors[0].field}: ${v.errors[0].message}`, `risk_config.${v.errors[0].field}`);
      draft.risk = v.value;
    }
    const until = body.until ?? new Date().toISOString();
    if (new Date(until) < new Date(body.since)) throw badRequest('VALIDATION_FAILED', 'until is before since', 'until');
    const sim = await simulator.start(principal.orgId, { since: body.since, until, draft });
    await audit.append(principal.orgId, [{ actorType: 'api_key', actorId: principal.keyId, entityType: 'simulation', entityId: sim.id, action: 'start', data: { since: body.since, until, draft: Object.keys(body).filter((k) => k !== 'since' && k !== 'until') } }]);
    res.status(sim.status === 'done' || sim.status === 'failed' ? 200 : 202).json(simOut(sim));
  });

  route(r, docs, keys, {
    method: 'get', path: '/api/v1/simulations/:id', summary: 'A simulation: progress while it runs, the report when done', tags, scope: 'governance:read',
    responses: { 200: { description: 'The simulation' }, 404: { description: 'Not found' } },
  }, async ({ res, params, principal }) => {
    const s = await simulator.get(principal.orgId, params.id);
    if (!s) throw notFound('simulation', params.id);
    res.json(simOut(s));
  });

  return r;
}
