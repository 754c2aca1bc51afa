import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { readLines, verifyAuditExport } from '../../cli/audit-verify';
import { addUser, linkIn, postForm, proposal } from '../helpers/fixtures';
import { startSmtp } from '../helpers/smtp';
import { ADMIN_KEY, startStack } from '../helpers/stack';
import type { Stack } from '../helpers/stack';
import { startTemporal } from '../helpers/temporal';

// TheWARDN (seed 003): /govern verdicts, escrows, governance modes and the dashboard, end to end.

const HEX64 = /^[0-9a-f]{64}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
/** Keys the seed reserves for one verdict (or mode); none may leak into another answer. */
const HELD_ONLY = ['escrow_id', 'timeout_at'];
const BLOCKED_ONLY = ['reason', 'rule_violated'];
const MODE_ONLY = ['governance_mode', 'original_verdict'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A /govern body with overrides. */
const action = (over: Record<string, unknown> = {}) => ({ agent_id: 'agt_reader', action_type: 'read_logs', target_service: 'production-api', ...over });

function lacks(body: Record<string, unknown>, keys: string[], what: string): void {
  for (const k of keys) assert.ok(!(k in body), `${what} carries no ${k} (got ${JSON.stringify(body[k])})`);
}

function assertCleared(b: Record<string, any>): void {
  assert.equal(b.execute, true);
  assert.equal(b.verdict, 'CLEARED');
  assert.equal(b.tier, 'A');
  assert.ok(Number.isInteger(b.seq) && b.seq > 0, `seq is a positive integer: ${b.seq}`);
  assert.match(b.hash, HEX64);
}

/** Mints a key through the API and returns its secret and id. */
async function key(s: Stack, body: { name: string; scopes: string[]; role?: 'admin' | 'architect' | 'member'; user_id?: string }): Promise<{ key: string; id: string }> {
  const r = await s.call('POST', '/api/v1/keys', { body: { role: 'member', ...body } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return { key: r.body.key as string, id: r.body.id as string };
}

async function rule(s: Stack, name: string, actionType: string, outcome: 'REQUIRE_APPROVAL' | 'DENY' | 'ESCALATE'): Promise<void> {
  const r = await s.call('POST', '/api/smart-rules', { body: { name, priority: 10, conditions: { action_type: actionType }, action: outcome } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
}

/**
 * Registers agents: WARDN governs the actions of registered agents only (POST /api/v1/agents, admin key).
 */
async function registerAgents(st: Stack, ids: string[]): Promise<void> {
  for (const id of ids) {
    const r = await st.call('POST', '/api/v1/agents', { body: { agent_id: id, name: id } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
}

/** Governs as an agent, with `Authorization: Bearer` as the seed shows. */
async function govern(s: Stack, agentKey: string, body: Record<string, unknown>): Promise<Record<string, any>> {
  const r = await s.call('POST', '/govern', { body, key: null, headers: { Authorization: `Bearer ${agentKey}` } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

/** The organization's audit export (NDJSON), as text. */
async function exportAudit(s: Stack): Promise<string> {
  const res = await fetch(`${s.url}/api/v1/audit/export`, { headers: { 'X-API-Key': ADMIN_KEY } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /ndjson/);
  return res.text();
}

/** Runs the offline verifier's command line (`npm run arbiter -- audit verify <file>`). */
function cliVerify(file: string): Promise<{ code: number | null; out: string }> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'audit', 'verify', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.once('error', fail);
    child.once('exit', (code) => ok({ code, out }));
  });
}

describe('TheWARDN: verdicts, escrows, the audit chain and governance modes', () => {
  let temporal: TestWorkflowEnvironment;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let s: Stack;
  let fast: Stack;
  let alice: string;
  let aliceKey: string;
  let agentKey: string;
  let tmp: string;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'wardn-'));
    temporal = await startTemporal();
    smtp = await startSmtp();
    [s, fast] = await Promise.all([
      startStack({ temporal, env: { SMTP_URL: smtp.url } }),
      startStack({ temporal, env: { SMTP_URL: smtp.url, WARDN_ESCROW_TIER_B_SECONDS: '3' } }),
    ]);
    alice = await addUser(s, 'alice@example.com', ['approver'], 'Alice');
    await addUser(s, 'root@example.com', ['admin'], 'Root');
    aliceKey = (await key(s, { name: 'alice', scopes: ['governance:read', 'governance:write'], user_id: alice })).key;
    agentKey = (await key(s, { name: 'agent', scopes: ['governance:propose', 'governance:read'] })).key;
    await rule(s, 'Deploys wait for a person', 'deploy_code', 'REQUIRE_APPROVAL');
    await rule(s, 'Key rotation goes to the admins', 'rotate_keys', 'ESCALATE');
    await rule(s, 'Never drop a database', 'delete_database', 'DENY');
    await registerAgents(s, ['agt_reader', 'agt_deployer', 'agt_rotator', 'agt_dropper', 'agt_chain', 'agt_modes']);
    await registerAgents(fast, ['agt_deployer']);
    await addUser(fast, 'fred@example.com', ['approver'], 'Fred');
    await rule(fast, 'Deploys wait for a person', 'deploy_code', 'REQUIRE_APPROVAL');
  });
  after(async () => {
    await s?.close();
    await fast?.close();
    await smtp?.close();
    await temporal?.teardown();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('answers each verdict in the seed’s shape, with no key reserved for another verdict', async () => {
    const cleared = await govern(s, agentKey, action());
    assertCleared(cleared);
    lacks(cleared, [...HELD_ONLY, ...BLOCKED_ONLY, ...MODE_ONLY, 'l6'], 'CLEARED');

    const before = Date.now();
    const held = await govern(s, agentKey, action({ agent_id: 'agt_deployer', action_type: 'deploy_code', reasoning: 'Deploying hotfix for critical API timeout bug', confidence: { incident: 0.95, fix: 0.9 } }));
    assert.equal(held.execute, false);
    assert.equal(held.verdict, 'HELD');
    assert.equal(held.tier, 'B');
    assert.ok(Number.isInteger(held.seq));
    assert.match(held.hash, HEX64);
    assert.equal(typeof held.escrow_id, 'string');
    assert.ok(held.escrow_id.length > 0);
    assert.match(held.timeout_at, ISO);
    const deadline = Date.parse(held.timeout_at) - before;
    assert.ok(Math.abs(deadline - 600_000) < 30_000, `timeout_at is about 600 s from now (got ${deadline / 1000} s)`);
    assert.equal(typeof held.message, 'string');
    assert.ok(held.message.length > 0);
    assert.match(held.payload_hash, HEX64);
    lacks(held, [...BLOCKED_ONLY, ...MODE_ONLY], 'HELD');

    const escalated = await govern(s, agentKey, action({ agent_id: 'agt_rotator', action_type: 'rotate_keys' }));
    assert.deepEqual({ execute: escalated.execute, verdict: escalated.verdict, tier: escalated.tier }, { execute: false, verdict: 'HELD', tier: 'C' });
    assert.equal(typeof escalated.escrow_id, 'string');
    assert.match(escalated.timeout_at, ISO);
    const cDeadline = Date.parse(escalated.timeout_at) - before;
    assert.ok(Math.abs(cDeadline - 1_800_000) < 30_000, `a tier C escrow waits WARDN_ESCROW_TIER_C_SECONDS (1800 s by default; got ${cDeadline / 1000} s)`);
    lacks(escalated, [...BLOCKED_ONLY, ...MODE_ONLY], 'HELD at tier C');

    const blocked = await govern(s, agentKey, action({ agent_id: 'agt_dropper', action_type: 'delete_database' }));
    assert.equal(blocked.execute, false);
    assert.equal(blocked.verdict, 'BLOCKED');
    assert.equal(blocked.tier, 'C');
    assert.match(blocked.hash, HEX64);
    assert.match(blocked.reason, /^[A-Z][A-Z0-9_]+$/, 'reason is a stable code');
    assert.equal(typeof blocked.message, 'string');
    assert.match(blocked.message, /Never drop a database/);
    lacks(blocked, [...HELD_ONLY, 'rule_violated', ...MODE_ONLY], 'BLOCKED (tier C)');

    // Each answer is its own audit record, in order.
    assert.ok(cleared.seq < held.seq && held.seq < escalated.seq && escalated.seq < blocked.seq, 'seq grows');
    assert.equal(new Set([cleared.hash, held.hash, escalated.hash, blocked.hash]).size, 4);

    // The decision behind BLOCKED names the same code.
    const bd = await s.call('GET', `/api/v1/governance/decisions/${blocked.decision_id}`);
    assert.equal(bd.body.outcome, 'DENY');
    assert.ok(bd.body.reasons.some((r: { code: string }) => r.code === blocked.reason), `the decision's reasons include ${blocked.reason}`);

    // environment defaults to production; a given one is kept.
    const cd = await s.call('GET', `/api/v1/governance/decisions/${cleared.decision_id}`);
    assert.equal(cd.status, 200);
    assert.equal(cd.body.outcome, 'ALLOW');
    assert.deepEqual({ seq: cd.body.audit.seq, hash: cd.body.audit.hash }, { seq: cleared.seq, hash: cleared.hash });
    assert.equal(cd.body.risk.factors.compliance.basis, 'environment production');
    const staging = await govern(s, agentKey, action({ environment: 'staging' }));
    assertCleared(staging);
    assert.equal((await s.call('GET', `/api/v1/governance/decisions/${staging.decision_id}`)).body.risk.factors.compliance.basis, 'environment staging');
    const escrow = await s.call('GET', `/escrow/${held.escrow_id}`, { key: agentKey });
    assert.equal(escrow.status, 200);
    assert.deepEqual(
      { status: escrow.body.status, tier: escrow.body.tier, timeout_at: escrow.body.timeout_at, payload_hash: escrow.body.payload_hash, environment: escrow.body.environment, action_type: escrow.body.action_type, agent_id: escrow.body.agent_id },
      { status: 'HELD', tier: 'B', timeout_at: held.timeout_at, payload_hash: held.payload_hash, environment: 'production', action_type: 'deploy_code', agent_id: 'agt_deployer' },
    );
  });

  it('refuses a body without action_type with 400, naming the field, and execute: false', async () => {
    const body: Record<string, unknown> = action();
    delete body.action_type;
    const r = await s.call('POST', '/govern', { body, key: null, headers: { Authorization: `Bearer ${agentKey}` } });
    assert.equal(r.status, 400);
    assert.equal(r.body.execute, false);
    assert.equal(r.body.error.field, 'action_type');
    assert.match(r.body.message, /action_type/);
    const noKey = await s.call('POST', '/govern', { body: action(), key: null });
    assert.equal(noKey.status, 401);
    assert.equal(noKey.body.execute, false);
  });

  it('a HELD action released by a person (key or emailed link) clears for the agent; a killed one ends BLOCKED; GET /escrow lists only open ones', async () => {
    const deploy = (n: number) => govern(s, agentKey, action({ agent_id: 'agt_deployer', action_type: 'deploy_code', metadata: { parameters: { build: n } } }));

    // Released with the approver's own key.
    const a = await deploy(1);
    assert.equal(a.verdict, 'HELD');
    const waiting = await s.call('GET', `/escrow/${a.escrow_id}`, { key: agentKey });
    assert.deepEqual({ status: waiting.body.status, execute: waiting.body.execute, decision_id: waiting.body.decision_id }, { status: 'HELD', execute: false, decision_id: a.decision_id });
    const self = await s.call('POST', `/escrow/${a.escrow_id}/release`, { body: {}, key: agentKey });
    assert.equal(self.status, 403, 'the agent cannot release its own hold');
    const writer = (await key(s, { name: 'agent with write scope', scopes: ['governance:propose', 'governance:read', 'governance:write'] })).key;
    const noPerson = await s.call('POST', `/escrow/${a.escrow_id}/release`, { body: {}, key: writer });
    assert.equal(noPerson.status, 403, 'a key that is no person cannot release a hold');
    assert.equal(noPerson.body.error.code, 'NOT_A_PERSON');
    assert.equal((await s.call('GET', `/escrow/${a.escrow_id}`, { key: agentKey })).body.status, 'HELD');
    const released = await s.call('POST', `/escrow/${a.escrow_id}/release`, { body: { reason: 'reviewed the diff' }, key: aliceKey });
    assert.equal(released.status, 200, JSON.stringify(released.body));
    const seenA = await s.call('GET', `/escrow/${a.escrow_id}?wait=10`, { key: agentKey });
    assert.equal(seenA.status, 200);
    assert.equal(seenA.body.verdict, 'CLEARED');
    assert.equal(seenA.body.execute, true);
    assert.deepEqual(seenA.body.decided_by, [alice]);
    assert.equal((await s.call('GET', `/api/v1/governance/decisions/${a.decision_id}`)).body.outcome, 'ALLOW');
    const twice = await s.call('POST', `/escrow/${a.escrow_id}/kill`, { body: {}, key: aliceKey });
    assert.equal(twice.status, 409, 'an ended escrow cannot be killed');
    assert.equal((await s.call('GET', `/escrow/${a.escrow_id}`, { key: agentKey })).body.verdict, 'CLEARED');

    // Released through the emailed link.
    const b = await deploy(2);
    const mail = await smtp.waitFor((m) => m.to === 'alice@example.com' && m.text.includes(b.decision_id));
    const posted = await postForm(linkIn(mail.text), { decision: 'approve' });
    assert.equal(posted.status, 200, posted.text);
    const seenB = await s.call('GET', `/escrow/${b.escrow_id}?wait=10`, { key: agentKey });
    assert.deepEqual({ verdict: seenB.body.verdict, execute: seenB.body.execute, decided_by: seenB.body.decided_by }, { verdict: 'CLEARED', execute: true, decided_by: [alice] });

    // Killed.
    const c = await deploy(3);
    const killed = await s.call('POST', `/escrow/${c.escrow_id}/kill`, { body: { reason: 'not on a Friday' }, key: aliceKey });
    assert.equal(killed.status, 200, JSON.stringify(killed.body));
    const seenC = await s.call('GET', `/escrow/${c.escrow_id}?wait=10`, { key: agentKey });
    assert.deepEqual({ verdict: seenC.body.verdict, execute: seenC.body.execute }, { verdict: 'BLOCKED', execute: false });
    assert.equal((await s.call('GET', `/api/v1/governance/decisions/${c.decision_id}`)).body.outcome, 'DENY');

    // Left open.
    const d = await deploy(4);
    const list = await s.call('GET', '/escrow?limit=200', { key: agentKey });
    assert.equal(list.status, 200);
    const ids = list.body.escrows.map((e: { escrow_id: string }) => e.escrow_id);
    assert.ok(ids.includes(d.escrow_id), 'the open escrow is listed');
    for (const gone of [a.escrow_id, b.escrow_id, c.escrow_id]) assert.ok(!ids.includes(gone), `ended escrow ${gone} is not listed`);
    assert.ok(list.body.escrows.every((e: { status: string; execute: boolean }) => e.status === 'HELD' && e.execute === false));
    assert.equal(list.body.total, ids.length);
    assert.equal((await s.call('GET', '/escrow/esc_nope', { key: agentKey })).status, 404);
  });

  it('a HELD action nobody decides expires at its tier B deadline and ends BLOCKED', async () => {
    const agent = (await key(fast, { name: 'agent', scopes: ['governance:propose', 'governance:read'] })).key;
    const t0 = Date.now();
    const held = await govern(fast, agent, action({ agent_id: 'agt_deployer', action_type: 'deploy_code' }));
    assert.equal(held.verdict, 'HELD');
    const deadline = Date.parse(held.timeout_at) - t0;
    assert.ok(deadline > 1_000 && deadline < 6_000, `timeout_at follows WARDN_ESCROW_TIER_B_SECONDS=3 (got ${deadline} ms)`);
    assert.deepEqual((await fast.call('GET', '/escrow', { key: agent })).body.escrows.map((e: { escrow_id: string }) => e.escrow_id), [held.escrow_id]);
    let seen = await fast.call('GET', `/escrow/${held.escrow_id}?wait=15`, { key: agent });
    for (let i = 0; i < 20 && seen.body.verdict === 'HELD'; i++) seen = await fast.call('GET', `/escrow/${held.escrow_id}?wait=1`, { key: agent });
    assert.deepEqual({ verdict: seen.body.verdict, execute: seen.body.execute }, { verdict: 'BLOCKED', execute: false });
    assert.ok(Date.now() - t0 >= 2_500, 'not before its deadline');
    assert.equal((await fast.call('GET', `/api/v1/governance/decisions/${held.decision_id}`)).body.outcome, 'DENY');
    assert.deepEqual((await fast.call('GET', '/escrow', { key: agent })).body.escrows, [], 'an expired escrow is no longer open');
  });

  it('seq and hash of /govern answers are the exported chain’s records, and the file verifies offline', async () => {
    const answers = [
      await govern(s, agentKey, action({ agent_id: 'agt_chain' })),
      await govern(s, agentKey, action({ agent_id: 'agt_chain', action_type: 'deploy_code' })),
      await govern(s, agentKey, action({ agent_id: 'agt_chain', action_type: 'delete_database' })),
    ];
    assert.deepEqual(answers.map((x) => x.verdict), ['CLEARED', 'HELD', 'BLOCKED']);
    const text = await exportAudit(s);
    const records = text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as { seq: number; hash: string; action: string; entityId: string });
    for (const ans of answers) {
      const rec = records.find((r) => r.seq === ans.seq);
      assert.ok(rec, `the export holds seq ${ans.seq}`);
      assert.equal(rec.hash, ans.hash, `seq ${ans.seq}: the answer's hash is the record's`);
      assert.equal(rec.action, 'decision.proposed');
      assert.equal(rec.entityId, ans.decision_id);
    }
    const file = join(tmp, 'audit.ndjson');
    writeFileSync(file, text);
    const v = await verifyAuditExport(readLines(file));
    assert.equal(v.ok, true, v.problem ?? '');
    assert.equal(v.checked, records.length);
    assert.ok((v.lastSeq ?? 0) >= answers[2].seq);
    const cli = await cliVerify(file);
    assert.equal(cli.code, 0, cli.out);
    assert.match(cli.out, /^ok: /);

    // The same file with the BLOCKED record rewritten as cleared no longer verifies, and names that record.
    const tampered = readFileSync(file, 'utf8').split('\n').map((l) => {
      if (!l.trim()) return l;
      const r = JSON.parse(l) as { seq: number; data: Record<string, unknown> };
      if (r.seq !== answers[2].seq) return l;
      return JSON.stringify({ ...r, data: { ...r.data, outcome: 'ALLOW' } });
    });
    const bad = join(tmp, 'tampered.ndjson');
    writeFileSync(bad, tampered.join('\n'));
    const vb = await verifyAuditExport(readLines(bad));
    assert.equal(vb.ok, false);
    assert.equal(vb.firstBrokenSeq, answers[2].seq);
    assert.equal((await cliVerify(bad)).code, 1);
  });

  it('governance modes: only an architect changes them; AUDIT_ONLY clears on every surface, expires by itself; DISABLED is flagged; every change is audited', async () => {
    const member = await key(s, { name: 'member writer', scopes: ['governance:read', 'governance:write'], role: 'member' });
    const architect = await key(s, { name: 'architect', scopes: ['governance:read'], role: 'architect' });
    const put = (k: string, body: Record<string, unknown>) => s.call('PUT', '/governance-mode', { body, key: k });
    const drop = () => govern(s, agentKey, action({ agent_id: 'agt_modes', action_type: 'delete_database' }));
    const aegisDrop = () => s.call('POST', '/api/v1/governance/propose', { body: proposal({ actor: { id: 'agt_modes', type: 'ai-agent' }, action: { capability: 'delete_database', parameters: {} } }) });
    const mode = async () => (await s.call('GET', '/governance-mode', { key: agentKey })).body;
    const proposed = async (decisionId: string) => (await s.call('GET', `/api/v1/audit?entity_id=${decisionId}&action=decision.proposed`)).body.data[0]?.data as Record<string, unknown> | undefined;

    assert.deepEqual(await mode(), { mode: 'ENFORCED', expires_at: null });
    const byMember = await put(member.key, { mode: 'AUDIT_ONLY' });
    assert.equal(byMember.status, 403);
    assert.equal(byMember.body.error.code, 'ARCHITECT_REQUIRED');
    assert.equal((await put(ADMIN_KEY, { mode: 'DISABLED' })).status, 403, 'an admin is not an architect');
    assert.deepEqual(await mode(), { mode: 'ENFORCED', expires_at: null }, 'a refused change changes nothing');
    assert.equal((await drop()).verdict, 'BLOCKED');

    // AUDIT_ONLY: the would-be verdict is recorded, the action is cleared, on /govern and on Aegis alike.
    const set = await put(architect.key, { mode: 'AUDIT_ONLY' });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual(set.body, { mode: 'AUDIT_ONLY', expires_at: null });
    assert.deepEqual(await mode(), { mode: 'AUDIT_ONLY', expires_at: null });
    const audited = await drop();
    assertCleared(audited);
    assert.equal(audited.governance_mode, 'AUDIT_ONLY');
    assert.equal(audited.original_verdict, 'BLOCKED');
    lacks(audited, [...HELD_ONLY, ...BLOCKED_ONLY], 'CLEARED in AUDIT_ONLY');
    const aegisAudited = await aegisDrop();
    assert.equal(aegisAudited.status, 200);
    assert.equal(aegisAudited.body.outcome, 'ALLOW');
    assert.deepEqual(await proposed(aegisAudited.body.decision_id).then((d) => d && { mode: d.governanceMode, original: d.originalOutcome }), { mode: 'AUDIT_ONLY', original: 'DENY' });
    // A HELD-worthy action is cleared too, and nobody is asked: no escrow opens.
    const openBefore = (await s.call('GET', '/escrow?limit=200', { key: agentKey })).body.total as number;
    const auditedDeploy = await govern(s, agentKey, action({ agent_id: 'agt_modes', action_type: 'deploy_code' }));
    assert.deepEqual({ verdict: auditedDeploy.verdict, execute: auditedDeploy.execute, original: auditedDeploy.original_verdict }, { verdict: 'CLEARED', execute: true, original: 'HELD' });
    lacks(auditedDeploy, HELD_ONLY, 'a HELD-worthy action cleared in AUDIT_ONLY');
    assert.equal((await s.call('GET', '/escrow?limit=200', { key: agentKey })).body.total, openBefore);
    assert.equal((await put(architect.key, { mode: 'ENFORCED' })).status, 200);
    const enforced = await drop();
    assert.equal(enforced.verdict, 'BLOCKED');
    lacks(enforced, MODE_ONLY, 'an ENFORCED answer');

    // For duration_hours, then ENFORCED again by itself.
    const timed = await put(architect.key, { mode: 'AUDIT_ONLY', duration_hours: 0.0005 });
    assert.equal(timed.status, 200);
    assert.equal(timed.body.mode, 'AUDIT_ONLY');
    const expires = Date.parse(timed.body.expires_at);
    assert.ok(Math.abs(expires - Date.now() - 1_800) < 1_000, `expires_at is duration_hours from now (${timed.body.expires_at})`);
    const during = await drop();
    assert.deepEqual({ verdict: during.verdict, mode: during.governance_mode, original: during.original_verdict }, { verdict: 'CLEARED', mode: 'AUDIT_ONLY', original: 'BLOCKED' });
    await sleep(Math.max(0, expires - Date.now()) + 300);
    assert.deepEqual(await mode(), { mode: 'ENFORCED', expires_at: null });
    const afterExpiry = await drop();
    assert.equal(afterExpiry.verdict, 'BLOCKED', 'the mode ended by itself');
    lacks(afterExpiry, MODE_ONLY, 'an answer after the mode expired');
    assert.equal((await aegisDrop()).body.outcome, 'DENY');

    // DISABLED: nothing evaluated, the action passes, and its audit record is flagged.
    assert.equal((await put(architect.key, { mode: 'DISABLED' })).status, 200);
    const ungoverned = await drop();
    assertCleared(ungoverned);
    assert.equal(ungoverned.governance_mode, 'DISABLED');
    lacks(ungoverned, ['original_verdict', ...HELD_ONLY, ...BLOCKED_ONLY], 'CLEARED in DISABLED');
    const trace = await proposed(ungoverned.decision_id);
    assert.equal(trace?.governanceMode, 'DISABLED');
    assert.equal(trace?.ungoverned, true);
    const aegisUngoverned = await aegisDrop();
    assert.equal(aegisUngoverned.body.outcome, 'ALLOW');
    assert.equal((await proposed(aegisUngoverned.body.decision_id))?.ungoverned, true);
    assert.equal((await put(architect.key, { mode: 'ENFORCED' })).status, 200);
    assert.equal((await drop()).verdict, 'BLOCKED');

    // Every change (and no refused attempt) is audited, by the architect's key; the periods follow from them.
    const changes = (await s.call('GET', '/api/v1/audit?action=governance_mode.change&limit=200')).body.data.reverse() as { actor_id: string; data: { from: string; to: string; expiresAt: string | null } }[];
    assert.deepEqual(changes.map((c) => `${c.data.from}->${c.data.to}`), ['ENFORCED->AUDIT_ONLY', 'AUDIT_ONLY->ENFORCED', 'ENFORCED->AUDIT_ONLY', 'ENFORCED->DISABLED', 'DISABLED->ENFORCED']);
    assert.ok(changes.every((c) => c.actor_id === architect.id));
    assert.equal(changes[2].data.expiresAt, timed.body.expires_at);
    const periods = await s.call('GET', '/governance-mode/periods', { key: agentKey });
    assert.equal(periods.status, 200);
    const p = periods.body.periods as { mode: string; from: string; until: string | null; ended: string | null; by: string }[];
    assert.deepEqual(p.map((x) => [x.mode, x.ended, x.by]), [['AUDIT_ONLY', 'changed', architect.id], ['AUDIT_ONLY', 'expired', architect.id], ['DISABLED', 'changed', architect.id]]);
    assert.equal(p[1].until, timed.body.expires_at);
    for (const x of p) assert.ok(x.until && Date.parse(x.from) <= Date.parse(x.until), `${x.mode} period runs from ${x.from} to ${x.until}`);
    assert.equal((await s.call('GET', '/api/v1/audit/verify')).body.ok, true);
  });
});

describe('TheWARDN dashboard on a fresh organization', () => {
  let temporal: TestWorkflowEnvironment;
  let d: Stack;
  let approverKey: string;
  before(async () => {
    temporal = await startTemporal();
    d = await startStack({ temporal });
    const ann = await addUser(d, 'ann@example.com', ['approver'], 'Ann');
    approverKey = (await key(d, { name: 'ann', scopes: ['governance:read', 'governance:write'], user_id: ann })).key;
    await rule(d, 'Deploys wait for a person', 'deploy_code', 'REQUIRE_APPROVAL');
    await rule(d, 'Never drop a database', 'delete_database', 'DENY');
    await registerAgents(d, ['agt_a', 'agt_b', 'agt_c']);
  });
  after(async () => {
    await d?.close();
    await temporal?.teardown();
  });

  it('counts exactly the decisions made: governed, cleared, held, blocked, agents, mode, monthly use', async () => {
    const agent = (await key(d, { name: 'agent', scopes: ['governance:propose', 'governance:read'] })).key;
    const empty = await d.call('GET', '/dashboard', { key: agent });
    assert.equal(empty.status, 200);
    assert.deepEqual(
      { g: empty.body.total_governed, c: empty.body.total_cleared, h: empty.body.total_held, b: empty.body.total_blocked, a: empty.body.active_agents, m: empty.body.governance_mode, u: empty.body.monthly_used },
      { g: 0, c: 0, h: 0, b: 0, a: 0, m: 'ENFORCED', u: 0 },
    );

    const verdicts = [
      await govern(d, agent, action({ agent_id: 'agt_a' })),
      await govern(d, agent, action({ agent_id: 'agt_b' })),
      await govern(d, agent, action({ agent_id: 'agt_a', action_type: 'delete_database' })),
      await govern(d, agent, action({ agent_id: 'agt_c', action_type: 'deploy_code' })),
      await govern(d, agent, action({ agent_id: 'agt_c', action_type: 'deploy_code', metadata: { parameters: { n: 2 } } })),
      await govern(d, agent, action({ agent_id: 'agt_c', action_type: 'deploy_code', metadata: { parameters: { n: 3 } } })),
    ];
    assert.deepEqual(verdicts.map((v) => v.verdict), ['CLEARED', 'CLEARED', 'BLOCKED', 'HELD', 'HELD', 'HELD']);
    // One held action is released (now cleared), one killed (now blocked), one still held.
    assert.equal((await d.call('POST', `/escrow/${verdicts[4].escrow_id}/release`, { body: {}, key: approverKey })).status, 200);
    assert.equal((await d.call('POST', `/escrow/${verdicts[5].escrow_id}/kill`, { body: {}, key: approverKey })).status, 200);
    assert.equal((await d.call('GET', `/escrow/${verdicts[4].escrow_id}?wait=10`, { key: agent })).body.verdict, 'CLEARED');
    assert.equal((await d.call('GET', `/escrow/${verdicts[5].escrow_id}?wait=10`, { key: agent })).body.verdict, 'BLOCKED');

    const dash = await d.call('GET', '/dashboard', { key: agent });
    assert.equal(dash.status, 200);
    assert.deepEqual(
      { g: dash.body.total_governed, c: dash.body.total_cleared, h: dash.body.total_held, b: dash.body.total_blocked, a: dash.body.active_agents, m: dash.body.governance_mode, u: dash.body.monthly_used },
      { g: 6, c: 3, h: 1, b: 2, a: 3, m: 'ENFORCED', u: 6 },
    );
    assert.equal(dash.body.total_cleared + dash.body.total_held + dash.body.total_blocked, dash.body.total_governed);
    assert.equal(dash.body.active_policies, 2);

    // The mode it shows is the one in force.
    const architect = (await key(d, { name: 'architect', scopes: ['governance:read'], role: 'architect' })).key;
    assert.equal((await d.call('PUT', '/governance-mode', { body: { mode: 'AUDIT_ONLY' }, key: architect })).status, 200);
    assert.equal((await d.call('GET', '/dashboard', { key: agent })).body.governance_mode, 'AUDIT_ONLY');
  });
});
