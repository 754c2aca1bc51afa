import { Router } from 'express';
import { z } from 'zod';
import { DEFAULT_RISK_CONFIG, validateRiskConfig } from '../../engine/risk';
import { validatePolicyDef } from '../../engine/policy-schema';
import { compileRule } from '../../engine/rules';
import type { RuleAction } from '../../engine/types';
import { Decision, Policy, RiskConfigRow, SmartRule } from '../../entities';
import { badRequest, notFound } from '../../services/errors';
import { newId } from '../../services/ids';
import { actorOf, checkPolicy } from '../../services/policy-service';
import { actionOneLine } from '../../services/presenter';
import { TEMPLATES } from '../../services/templates';
import type { ApiDeps } from '../deps';
import { route } from '../http';

const errorStyle = 'ascend' as const;
const ok = (data: unknown) => ({ status: 'success', data });

const RiskIn = z
  .object({
    name: z.string().max(200).optional(),
    weights: z.record(z.string(), z.number()).optional(),
    thresholds: z.record(z.string(), z.number()).optional(),
    modifiers: z.record(z.string(), z.number()).optional(),
    activate: z.boolean().optional().describe('Activate at once (default false: create, then PUT .../activate)'),
  })
  .strict();

/** The presenter's one-line summary, under the name this module has always exported. */
export { actionOneLine as actionSummary };

const riskOut = (r: RiskConfigRow) => ({ config_id: r.id, name: r.name, weights: r.weights, thresholds: r.thresholds, modifiers: r.modifiers, is_active: r.isActive, created_at: r.createdAt.toISOString() });

/**
 * The built-in configuration (seed 002's defaults) under its own id: it is
 * never stored, it is what counts while no stored configuration is active, and
 * `PUT /api/risk-scoring/config/defaults/activate` brings it back.
 */
export const DEFAULTS_ID = 'defaults';
const defaultsOut = (active: boolean) => ({ config_id: DEFAULTS_ID, name: 'defaults', ...structuredClone({ ...DEFAULT_RISK_CONFIG }), is_active: active, builtin: true, created_at: null });

/** Ascend's risk configuration, templates, pending approvals and rule analytics (seed 002). */
export function ascendGovernanceRouter(deps: ApiDeps): Router {
  const r = Router();
  const { ds, docs, keys, audit, store, policies } = deps;

  route(r, docs, keys, {
    method: 'get', path: '/api/risk-scoring/config', summary: 'The active risk configuration (the built-in `defaults` until another is activated), with every stored configuration', tags: ['Ascend: risk scoring'], scope: 'governance:read', errorStyle,
    description: 'The built-in configuration has the id `defaults` (`builtin: true`); it is not listed in `configs`, which holds the stored ones.',
    responses: { 200: { description: '`{status, data: {config_id, weights, thresholds, modifiers, is_active, configs: [...]}}`' } },
  }, async ({ res, principal }) => {
    const rows = await ds.getRepository(RiskConfigRow).find({ where: { orgId: principal.orgId }, order: { createdAt: 'DESC' }, take: 100 });
    const active = rows.find((x) => x.isActive) ?? (await ds.getRepository(RiskConfigRow).findOne({ where: { orgId: principal.orgId, isActive: true } }));
    const cfg = active ? riskOut(active) : defaultsOut(true);
    res.json(ok({ ...cfg, factors: FACTOR_DOCS, configs: rows.map(riskOut) }));
  });

  route(r, docs, keys, {
    method: 'post', path: '/api/risk-scoring/config', summary: 'Create a risk configuration (partial; merged over the ACTIVE configuration); kept forever, activated explicitly', tags: ['Ascend: risk scoring'], scope: 'admin', errorStyle, body: RiskIn,
    description: 'What the body leaves out is taken from the configuration active now (the built-in `defaults` when none is stored and active); `based_on` in the answer names it.',
    responses: { 201: { description: 'Created; `based_on` is the id of the configuration it started from' }, 400: { description: 'Invalid weights, thresholds or modifiers; the error names the field' } },
  }, async ({ res, body, principal }) => {
    // Ascend's SDK sends one group at a time (`update_risk_config(thresholds=...)`): the rest stays as it is now, not as shipped.
    const base = await ds.getRepository(RiskConfigRow).findOne({ where: { orgId: principal.orgId, isActive: true } });
    // Read as the decision path reads it (policy-store): the stored groups over the defaults.
    const from = { weights: { ...DEFAULT_RISK_CONFIG.weights, ...base?.weights }, thresholds: { ...DEFAULT_RISK_CONFIG.thresholds, ...base?.thresholds }, modifiers: { ...DEFAULT_RISK_CONFIG.modifiers, ...base?.modifiers } };
    // The merged whole is checked: an unknown key or a value out of range is named as sent; thresholds in order and some weight above 0 hold for the result.
    const v = validateRiskConfig({ weights: { ...from.weights, ...body.weights }, thresholds: { ...from.thresholds, ...body.thresholds }, modifiers: { ...from.modifiers, ...body.modifiers } });
    if (!v.ok) throw badRequest('RISK_CONFIG_INVALID', `${v.errors[0].field}: ${v.errors[0].message}`, v.errors[0].field, v.errors);
    const basedOn = base?.id ?? DEFAULTS_ID;
    const row = ds.getRepository(RiskConfigRow).create({ id: newId('rcfg'), orgId: principal.orgId, name: body.name ?? '', weights: { ...v.value.weights }, thresholds: { ...v.value.thresholds }, modifiers: { ...v.value.modifiers }, isActive: false, createdBy: principal.keyId });
    await audit.append(principal.orgId, [{ ...actorOf(principal), entityType: 'risk_config', entityId: row.id, action: 'create', data: { weights: row.weights, thresholds: row.thresholds, modifiers: row.modifiers, basedOn } }], async (em) => {
      await em.insert(RiskConfigRow, row);
    });
    if (body.activate) await activate(principal.orgId, row.id, actorOf(principal));
    res.status(201).json(ok({ ...riskOut(await ds.getRepository(RiskConfigRow).findOneByOrFail({ id: row.id })), based_on: basedOn }));
  });

  /** Makes `id` the active configuration; `defaults` leaves no stored one active, so the built-in one counts. */
  const activate = async (orgId: string, id: string, actor: ReturnType<typeof actorOf>) => {
    await audit.append(orgId, [{ ...actor, entityType: 'risk_config', entityId: id, action: 'activate', data: {} }], async (em) => {
      await em.query('UPDATE risk_configs SET "isActive" = false WHERE "orgId" = $1 AND "isActive"', [orgId]);
      if (id !== DEFAULTS_ID) await em.query('UPDATE risk_configs SET "isActive" = true WHERE "orgId" = $1 AND id = $2', [orgId, id]);
      await store.notifyChange(em, orgId);
    });
  };

  route(r, docs, keys, {
    method: 'put', path: '/api/risk-scoring/config/:id/activate', summary: 'Activate a risk configuration (or the built-in `defaults`); it counts on the next proposal', tags: ['Ascend: risk scoring'], scope: 'admin', errorStyle,
    responses: { 200: { description: 'Activated' }, 404: { description: 'Not found' } },
  }, async ({ res, params, principal }) => {
    if (params.id === DEFAULTS_ID) {
      await activate(principal.orgId, DEFAULTS_ID, actorOf(principal));
      res.json(ok(defaultsOut(true)));
      return;
    }
    const row = await ds.getRepository(RiskConfigRow).findOne({ where: { id: params.id, orgId: principal.orgId } });
    if (!row) throw notFound('risk configuration', params.id);
    await activate(principal.orgId, row.id, actorOf(principal));
    res.json(ok(riskOut(await ds.getRepository(RiskConfigRow).findOneByOrFail({ id: row.id }))));
  });

  route(r, docs, keys, {
    method: 'get', path: '/api/governance/policies/templates', summary: 'Policy templates', tags: ['Ascend: templates'], scope: 'governance:read', errorStyle,
    responses: { 200: { description: '`{status, data: {templates: [{template_id, name, description, rules_count, categories}]}}`' } },
  }, async ({ res }) => {
    res.json(ok({ templates: TEMPLATES.map((t) => ({ template_id: t.template_id, name: t.name, description: t.description, rules_count: t.rules.length, policies_count: t.policies.length, categories: t.categories, rules: t.rules, policies: t.policies })) }));
  });

  route(r, docs, keys, {
    method: 'post', path: '/api/governance/policies/from-template', summary: "Create a template's smart rules and agent policies in the organization (or, with `dry_run`, show what it would create)", tags: ['Ascend: templates'], scope: 'admin', errorStyle,
    description: "A template governs its own domain only: actions outside it are decided as before. `dry_run: true` answers 200 with the rules and policies it would create (with their conditions and definitions, ids null) and the policy names that already exist (`conflicts`, which would make the real call a 409), and writes nothing.",
    body: z.object({ template_id: z.string(), name: z.string().min(1).max(150).optional(), description: z.string().max(2000).optional(), dry_run: z.boolean().default(false).describe('Show what would be created; change nothing') }).strict(),
    responses: { 200: { description: 'Dry run: `{status, data: {dry_run: true, template_id, rules: [{rule_id: null, name, description, priority, conditions, action, approval_level}], policies: [{id: null, name, definition}], conflicts: [names]}}`' }, 201: { description: 'The created rules and policies' }, 404: { description: 'Unknown template' }, 409: { description: 'A policy of that name exists' } },
  }, async ({ res, body, principal }) => {
    const t = TEMPLATES.find((x) => x.template_id === body.template_id);
    if (!t) throw notFound('template', body.template_id);
    const prefix = body.name ?? t.name;
    const defs = t.policies.map((p) => checkPolicy({ ...p, name: `${prefix}: ${String(p.name)}`, ...(body.description ? { description: body.description } : {}) }));
    for (const d of defs) {
      const v = validatePolicyDef(d);
      if (!v.ok) throw badRequest('TEMPLATE_INVALID', v.errors[0].message, v.errors[0].path);
    }
    const ruleRows = t.rules.map((x) => ds.getRepository(SmartRule).create({ id: newId('rule'), orgId: principal.orgId, name: `${prefix}: ${x.name}`, description: x.description, priority: x.priority, isActive: true, conditions: x.conditions, action: x.action, approvalLevel: x.approval_level ?? null, notifications: null, createdBy: principal.keyId }));
    for (const row of ruleRows) compileRule({ id: row.id, name: row.name, priority: row.priority, isActive: true, conditions: row.conditions, action: row.action as RuleAction });
    if (body.dry_run) {
      const names = defs.map((d) => d.name);
      const taken = names.length ? await ds.getRepository(Policy).find({ where: names.map((name) => ({ orgId: principal.orgId, name })), select: { name: true } }) : [];
      res.json(ok({
        dry_run: true,
        template_id: t.template_id,
        rules: ruleRows.map((x) => ({ rule_id: null, name: x.name, description: x.description, priority: x.priority, conditions: x.conditions, action: x.action, approval_level: x.approvalLevel })),
        policies: defs.map((d) => ({ id: null, name: d.name, definition: d })),
        conflicts: names.filter((n) => taken.some((p) => p.name === n)),
      }));
      return;
    }
    // Rules and policies commit together with their audit records: a taken policy name leaves nothing behind.
    const created = await policies.createMany(principal.orgId, actorOf(principal), defs, { templateId: t.template_id, note: `from template ${t.template_id}` }, {
      entries: ruleRows.map((row) => ({ ...actorOf(principal), entityType: 'smart_rule', entityId: row.id, action: 'create', data: { template: t.template_id, name: row.name, conditions: row.conditions, action: row.action } })),
      write: async (em) => {
        await em.insert(SmartRule, ruleRows);
      },
    });
    res.status(201).json(ok({ template_id: t.template_id, rules: ruleRows.map((x) => ({ rule_id: x.id, name: x.name, action: x.action })), policies: created.map((p) => ({ id: p.id, name: p.name })) }));
  });

  route(r, docs, keys, {
    method: 'get', path: '/api/governance/dashboard/pending-approvals', summary: 'Actions waiting for people', tags: ['Ascend: approvals'], scope: 'governance:read', errorStyle,
    query: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(500), offset: z.coerce.number().int().min(0).default(0) }),
    responses: { 200: { description: 'Newest first; `total` counts them all, `limit` (default 500, max 1000) and `offset` page. `{status, data: {pending: [{action_id, agent_id, action_type, risk_score, submitted_at, summary}], total}}`' } },
  }, async ({ res, query, principal }) => {
    const [rows, total] = await ds.getRepository(Decision).findAndCount({ where: { orgId: principal.orgId, status: 'pending' }, order: { createdAt: 'DESC' }, take: query.limit, skip: query.offset });
    res.json(ok({ pending: rows.map((d) => ({ action_id: d.id, workflow_execution_id: d.workflowId, agent_id: d.actorId, action_type: d.capability, risk_score: d.riskScore, submitted_at: d.createdAt.toISOString(), summary: actionOneLine(d.capability, (d.proposal as { action?: { parameters?: Record<string, unknown> } }).action?.parameters ?? {}, d.actorId) })), total }));
  });

  route(r, docs, keys, {
    method: 'post', path: '/api/governance/workflows/:id/approve', summary: 'An admin approves or denies a pending action (the seed’s admin endpoint)', tags: ['Ascend: approvals'], scope: 'admin', errorStyle,
    description: 'The id is the `workflow_execution_id` of a pending approval (or its decision id). Admin keys only, as seed 002 says; an approver votes with their own key at POST /api/v1/approvals/:id/vote, by the emailed link, or on Slack.',
    body: z.object({ decision: z.enum(['approved', 'denied']), comment: z.string().max(2000).optional() }).strict(),
    responses: { 200: { description: 'Counted' }, 403: { description: 'Self-approval or not an approver' }, 409: { description: 'No longer pending' } },
  }, async ({ res, params, body, principal }) => {
    const decisionId = params.id.startsWith('proposal-') ? params.id.slice('proposal-'.length) : params.id;
    const a = await deps.approvals.forSubject(principal.orgId, 'decision', decisionId);
    if (!a) throw notFound('pending approval', params.id);
    const result = await deps.approvals.vote(a, await deps.approvals.actorFor(principal), { choice: body.decision === 'approved' ? 'approve' : 'deny', comment: body.comment, via: 'api' });
    res.json(ok({ workflow_execution_id: a.workflowId, action_id: a.subjectId, status: result.status, tier: result.tier }));
  });

  route(r, docs, keys, {
    method: 'get', path: '/api/smart-rules/analytics', summary: 'Per-rule evaluations, matches and how often each rule decided the outcome', tags: ['Ascend: smart rules'], scope: 'governance:read', errorStyle,
    query: z.object({ days: z.coerce.number().int().min(1).max(365).default(30) }),
    responses: { 200: { description: '`{status, data: {rules: [...], totals}}`' } },
  }, async ({ res, query, principal }) => {
    await deps.ruleStats.flush();
    const rows = (await ds.query(
      `SELECT r.id, r.name, r.action, r.priority, r."isActive",
              coalesce(sum(s.evaluations), 0)::int AS evaluations, coalesce(sum(s.matches), 0)::int AS matches, coalesce(sum(s.decisive), 0)::int AS decisive
         FROM smart_rules r LEFT JOIN rule_stats s ON s."orgId" = r."orgId" AND s."ruleId" = r.id AND s.day > current_date - $2::int
        WHERE r."orgId" = $1 GROUP BY r.id ORDER BY r.priority DESC, r.id`,
      [principal.orgId, query.days],
    )) as { id: string; name: string; action: string; priority: number; isActive: boolean; evaluations: number; matches: number; decisive: number }[];
    const [tot] = (await ds.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE "finalOutcome" = 'ALLOW')::int AS allow, count(*) FILTER (WHERE "finalOutcome" = 'DENY')::int AS deny, count(*) FILTER (WHERE status = 'pending')::int AS pending FROM decisions WHERE "orgId" = $1 AND "createdAt" > now() - make_interval(days => $2::int)`, [principal.orgId, query.days])) as { n: number; allow: number; deny: number; pending: number }[];
    res.json(ok({
      days: query.days,
      rules: rows.map((x) => ({ rule_id: x.id, name: x.name, action: x.action, priority: x.priority, is_active: x.isActive, evaluations: x.evaluations, matches: x.matches, match_rate: x.evaluations ? x.matches / x.evaluations : 0, decided_outcome: x.decisive, overridden: x.matches - x.decisive })),
      totals: { decisions: tot.n, allowed: tot.allow, denied: tot.deny, pending: tot.pending },
    }));
  });

  return r;
}

/** The documented, deterministic derivation of each risk factor (see docs/risk-scoring.md). */
const FACTOR_DOCS = {
  data_sensitivity: 'max over data classes: PHI/health 95, PCI/card 90, financial 80, PII 75, confidential/secret 70, internal 30, public 0; none 10',
  operation_type: "by the capability's verb: read-ish 10, write-ish 50, execute-ish 70, destructive 95, unknown 40",
  financial_impact: 'amount in USD: min(100, round(20 * log10(amount + 1))); none 0',
  compliance: 'environment production 60, staging 30, development 10, unknown 40; regulated data classes raise it to at least 80',
  historical: "the actor's share of DENY among its last 200 decisions in 7 days (with at least 5), else 20",
};
