import { Router } from 'express';
import { z } from 'zod';
import { PRINCIPLES } from '../../engine/wardn';
import type { Agent, ConfidenceFloor, ModelEntry } from '../../entities';
import type { ApiDeps } from '../deps';
import { route } from '../http';

const tags = ['TheWARDN: registry'];
const Name = z.string().min(1).max(100);
const Names = z.array(Name).max(100);
const Id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/, 'an id is 1-200 letters, digits, _ . : -');

const agentOut = (a: Agent) => ({
  agent_id: a.id,
  name: a.name,
  description: a.description,
  owner: a.owner,
  allowed_environments: a.allowedEnvironments,
  allowed_models: a.allowedModels,
  status: a.status,
  created_at: a.createdAt.toISOString(),
  updated_at: a.updatedAt.toISOString(),
});
const floorOut = (f: ConfidenceFloor) => ({ floor_id: f.id, action_type: f.actionType, environment: f.environment, floors: f.floors, is_active: f.isActive, version: f.version, created_by: f.createdBy, created_at: f.createdAt.toISOString(), updated_at: f.updatedAt.toISOString() });
const modelOut = (m: ModelEntry) => ({
  model_id: m.id,
  provider: m.provider,
  access_channels: m.channels,
  data_classes: m.dataClasses,
  agreements: m.agreements,
  price_per_1k_input_usd: m.priceInputPer1k,
  price_per_1k_output_usd: m.priceOutputPer1k,
  status: m.status,
});

const AgentFields = {
  name: z.string().max(200).optional(),
  description: z.string().max(2000).optional(),
  owner: z.string().max(320).nullable().optional(),
  allowed_environments: Names.optional().describe('Empty: any environment'),
  allowed_models: Names.optional().describe('Empty: any model'),
};
const FloorFields = {
  action_type: z.string().min(1).max(200).describe('An action type or a glob (deploy_*)'),
  environment: z.string().min(1).max(50).default('*').describe('`*`: any environment'),
  floors: z.record(Name, z.number().min(0).max(1)).refine((f) => Object.keys(f).length > 0, 'name at least one dimension').describe('Dimension → floor (0..1), e.g. {"fix": 0.75}'),
  is_active: z.boolean().default(true),
};
const ModelIn = z
  .object({
    provider: z.string().min(1).max(100),
    access_channels: Names.default([]),
    data_classes: Names.default([]),
    agreements: z.array(z.enum(['DPA', 'BAA', 'dpa', 'baa'])).max(2).default([]),
    price_per_1k_input_usd: z.number().min(0).max(1000).default(0),
    price_per_1k_output_usd: z.number().min(0).max(1000).default(0),
    status: z.enum(['approved', 'blocked']).default('approved'),
  })
  .strict();
const SettingsIn = z
  .object({
    unregistered_agents: z.enum(['allow', 'deny']).optional().describe('How Aegis and Ascend treat an actor that is not a registered agent (WARDN always refuses it); default allow'),
    principles: z.array(z.enum(PRINCIPLES)).max(PRINCIPLES.length).optional(),
    freeze_windows: z.array(z.object({ from: z.iso.datetime({ offset: true }), until: z.iso.datetime({ offset: true }), name: z.string().max(200).optional() }).strict()).max(100).optional(),
    l6_mode: z.enum(['ENFORCEMENT', 'MONITOR']).optional(),
    org_monthly_budget_usd: z.number().min(0).nullable().optional(),
    agent_monthly_budget_usd: z.number().min(0).nullable().optional(),
    monthly_limit: z.number().int().min(1).nullable().optional().describe('Governed actions per calendar month; past it propose and govern answer 429'),
  })
  .strict();

/** WARDN's registry: agents (register, pause, block), confidence floors, the model registry (L6) and governance settings. */
export function wardnRegistryRouter(deps: ApiDeps): Router {
  const r = Router();
  const { docs, keys, wardn } = deps;

  // ---- agents
  route(r, docs, keys, {
    method: 'get', path: '/api/v1/agents', summary: 'Registered agents', tags, scope: 'governance:read',
    query: z.object({ status: z.enum(['active', 'paused', 'blocked']).optional(), limit: z.coerce.number().int().min(1).max(200).default(50), offset: z.coerce.number().int().min(0).default(0) }),
    responses: { 200: { description: '`{agents, total, limit, offset}`' } },
  }, async ({ res, query, principal }) => {
    const { items, total } = await wardn.listAgents(principal.orgId, query);
    res.json({ agents: items.map(agentOut), total, limit: query.limit, offset: query.offset });
  });

  route(r, docs, keys, {
    method: 'post', path: '/api/v1/agents', summary: 'Register an agent (agent_id optional: one is made)', tags, scope: 'admin',
    body: z.object({ agent_id: Id.optional(), ...AgentFields }).strict(),
    responses: { 201: { description: 'The agent' }, 409: { description: 'Already registered' } },
  }, async ({ res, body, principal }) => {
    const a = await wardn.registerAgent(principal, { id: body.agent_id, name: body.name, description: body.description, owner: body.owner, allowedEnvironments: body.allowed_environments, allowedModels: body.allowed_models });
    res.status(201).json(agentOut(a));
  });

  route(r, docs, keys, {
    method: 'get', path: '/api/v1/agents/:id', summary: 'One agent', tags, scope: 'governance:read',
    responses: { 200: { description: 'The agent' }, 404: { description: 'Not registered' } },
  }, async ({ res, params, principal }) => {
    res.json(agentOut(await wardn.getAgent(principal.orgId, params.id)));
  });

  route(r, docs, keys, {
    method: 'patch', path: '/api/v1/agents/:id', summary: "Change an agent's owner, description, allowed environments or models", tags, scope: 'admin',
    body: z.object(AgentFields).strict(),
    responses: { 200: { description: 'The agent' }, 404: { description: 'Not registered' } },
  }, async ({ res, params, body, principal }) => {
    res.json(agentOut(await wardn.updateAgent(principal, params.id, { name: body.name, description: body.description, owner: body.owner, allowedEnvironments: body.allowed_environments, allowedModels: body.allowed_models })));
  });

  for (const [verb, status, summary] of [
    ['pause', 'paused', 'Pause an agent: its actions are held for people on every surface'],
    ['block', 'blocked', 'Block an agent (the kill switch): its actions are refused on every surface'],
    ['resume', 'active', 'Let a paused or blocked agent act again'],
  ] as const) {
    route(r, docs, keys, {
      method: 'post', path: `/api/v1/agents/:id/${verb}`, summary, tags, scope: 'admin',
      body: z.object({ reason: z.string().max(2000).optional() }).strict(),
      responses: { 200: { description: 'The agent' }, 404: { description: 'Not registered' } },
    }, async ({ res, params, body, principal }) => {
      res.json(agentOut(await wardn.setAgentStatus(principal, params.id, status, body.reason)));
    });
  }

  // ---- confidence floors
  route(r, docs, keys, {
    method: 'get', path: '/api/v1/confidence-floors', summary: 'Confidence floors per action type and environment', tags, scope: 'governance:read',
    responses: { 200: { description: '`{floors}`' } },
  }, async ({ res, principal }) => {
    res.json({ floors: (await wardn.listFloors(principal.orgId)).map(floorOut) });
  });

  route(r, docs, keys, {
    method: 'post', path: '/api/v1/confidence-floors', summary: 'Add confidence floors: a value below its floor, or missing, holds the action', tags, scope: 'admin',
    body: z.object(FloorFields).strict(),
    responses: { 201: { description: 'The floor' } },
  }, async ({ res, body, principal }) => {
    res.status(201).json(floorOut(await wardn.createFloor(principal, { actionType: body.action_type, environment: body.environment, floors: body.floors, isActive: body.is_active })));
  });

  route(r, docs, keys, {
    method: 'put', path: '/api/v1/confidence-floors/:id', summary: 'Change confidence floors (a new version, audited)', tags, scope: 'admin',
    // No defaults here: a change names what it changes, nothing else moves.
    body: z.object({ action_type: FloorFields.action_type, environment: z.string().min(1).max(50), floors: FloorFields.floors, is_active: z.boolean() }).partial().strict(),
    responses: { 200: { description: 'The floor' }, 404: { description: 'Not found' } },
  }, async ({ res, params, body, principal }) => {
    res.json(floorOut(await wardn.updateFloor(principal, params.id, { ...(body.action_type !== undefined ? { actionType: body.action_type } : {}), ...(body.environment !== undefined ? { environment: body.environment } : {}), ...(body.floors !== undefined ? { floors: body.floors } : {}), ...(body.is_active !== undefined ? { isActive: body.is_active } : {}) })));
  });

  route(r, docs, keys, {
    method: 'delete', path: '/api/v1/confidence-floors/:id', summary: 'Remove confidence floors', tags, scope: 'admin',
    responses: { 204: { description: 'Removed' }, 404: { description: 'Not found' } },
  }, async ({ res, params, principal }) => {
    await wardn.deleteFloor(principal, params.id);
    res.status(204).end();
  });

  // ---- models (L6)
  route(r, docs, keys, {
    method: 'get', path: '/api/v1/models', summary: 'The model registry (L6)', tags, scope: 'governance:read',
    responses: { 200: { description: '`{models}`' } },
  }, async ({ res, principal }) => {
    res.json({ models: (await wardn.listModels(principal.orgId)).map(modelOut) });
  });

  route(r, docs, keys, {
    method: 'put', path: '/api/v1/models/:id', summary: 'Register or change a model: provider, access channels, data classes, agreements (DPA, BAA), prices per 1,000 tokens, status', tags, scope: 'admin', body: ModelIn,
    responses: { 200: { description: 'The model' } },
  }, async ({ res, params, body, principal }) => {
    const m = await wardn.putModel(principal, params.id, { provider: body.provider, channels: body.access_channels, dataClasses: body.data_classes, agreements: body.agreements, priceInputPer1k: body.price_per_1k_input_usd, priceOutputPer1k: body.price_per_1k_output_usd, status: body.status });
    res.json(modelOut(m));
  });

  route(r, docs, keys, {
    method: 'delete', path: '/api/v1/models/:id', summary: 'Remove a model from the registry', tags, scope: 'admin',
    responses: { 204: { description: 'Removed' }, 404: { description: 'Not found' } },
  }, async ({ res, params, principal }) => {
    await wardn.deleteModel(principal, params.id);
    res.status(204).end();
  });

  // ---- settings
  const settingsOut = (s: Awaited<ReturnType<typeof wardn.getSettings>>) => ({
    unregistered_agents: s.unregisteredAgents,
    principles: s.principles,
    freeze_windows: s.freezeWindows.map((w) => ({ from: new Date(w.from).toISOString(), until: new Date(w.until).toISOString(), ...(w.name ? { name: w.name } : {}) })),
    l6_mode: s.l6Mode,
    org_monthly_budget_usd: s.orgMonthlyBudgetUsd,
    agent_monthly_budget_usd: s.agentMonthlyBudgetUsd,
    monthly_limit: s.monthlyLimit,
  });

  route(r, docs, keys, {
    method: 'get', path: '/api/v1/governance-settings', summary: 'Governance settings: unregistered agents, Sentinel principles, freeze windows, L6 mode and budgets, monthly limit', tags, scope: 'governance:read',
    responses: { 200: { description: 'The settings' } },
  }, async ({ res, principal }) => {
    res.json(settingsOut(await wardn.getSettings(principal.orgId)));
  });

  route(r, docs, keys, {
    method: 'put', path: '/api/v1/governance-settings', summary: 'Change governance settings (any subset); audited', tags, scope: 'admin', body: SettingsIn,
    responses: { 200: { description: 'The settings' }, 400: { description: 'Invalid, the field named' } },
  }, async ({ res, body, principal }) => {
    const s = await wardn.putSettings(principal, {
      ...(body.unregistered_agents !== undefined ? { unregisteredAgents: body.unregistered_agents } : {}),
      ...(body.principles !== undefined ? { principles: body.principles } : {}),
      ...(body.freeze_windows !== undefined ? { freezeWindows: body.freeze_windows.map((w) => ({ from: Date.parse(w.from), until: Date.parse(w.until), ...(w.name ? { name: w.name } : {}) })) } : {}),
      ...(body.l6_mode !== undefined ? { l6Mode: body.l6_mode } : {}),
      ...(body.org_monthly_budget_usd !== undefined ? { orgMonthlyBudgetUsd: body.org_monthly_budget_usd } : {}),
      ...(body.agent_monthly_budget_usd !== undefined ? { agentMonthlyBudgetUsd: body.agent_monthly_budget_usd } : {}),
      ...(body.monthly_limit !== undefined ? { monthlyLimit: body.monthly_limit } : {}),
    });
    res.json(settingsOut(s));
  });

  return r;
}
