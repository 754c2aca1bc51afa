import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { proposal, secondOrg } from '../helpers/fixtures';
import { startStack } from '../helpers/stack';
import type { Stack } from '../helpers/stack';

/*
 * Issue 11, "contract fixes found by reading the seeds beside the code": each
 * block below fails without its fix.
 */

type Call = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;

/** The proposals no template names: mail, CRM, reports. Each is proposed by an agent of its own (no history). */
const UNRELATED: { label: string; body: (actor: string) => Record<string, unknown> }[] = [
  { label: 'email.send', body: (actor) => proposal({ actor: { id: actor, type: 'ai-agent' }, action: { capability: 'email.send', parameters: { to: 'someone@example.com', subject: 'hello' } } }) },
  {
    label: 'email.send with a country and an amount, in staging',
    body: (actor) => proposal({ actor: { id: actor, type: 'ai-agent' }, action: { capability: 'email.send', parameters: { to: 'someone@example.com', country: 'IR', amount: 20000 } }, context: { metadata: { environment: 'staging' } } }),
  },
  {
    label: 'email.send of PII in production',
    body: (actor) => proposal({ actor: { id: actor, type: 'ai-agent' }, action: { capability: 'email.send', parameters: { to: 'someone@example.com' } }, data_classes: ['PII'], context: { metadata: { environment: 'production' } } }),
  },
  { label: 'crm.records.delete in production', body: (actor) => proposal({ actor: { id: actor, type: 'ai-agent' }, action: { capability: 'crm.records.delete', parameters: { id: 42 } }, context: { metadata: { environment: 'production' } } }) },
  { label: 'reports.read of public data', body: (actor) => proposal({ actor: { id: actor, type: 'ai-agent' }, action: { capability: 'reports.read', parameters: {} }, data_classes: ['public'] }) },
];

/** What a decision was: its outcome, its risk score and every contribution to it (by source, effect and code). */
async function decided(call: Call, body: Record<string, unknown>) {
  const p = await call('POST', '/api/v1/governance/propose', body);
  assert.equal(p.status, 200, JSON.stringify(p.body));
  const d = await call('GET', `/api/v1/governance/decisions/${p.body.decision_id}`);
  assert.equal(d.status, 200, JSON.stringify(d.body));
  const reasons = (d.body.reasons as { source: string; effect: string; code: string }[]).map((r) => `${r.source}:${r.effect}:${r.code}`).sort();
  return { outcome: p.body.outcome as string, risk_score: p.body.risk_score as number, reasons };
}

describe('contract fixes (issue 11)', { timeout: 120_000 }, () => {
  let s: Stack;
  const as = (key: string): Call => async (method, path, body) => s.call(method, path, { body, key });
  const admin: Call = async (method, path, body) => s.call(method, path, { body });

  before(async () => {
    s = await startStack({ withWorker: false });
  });
  after(async () => {
    await s?.close();
  });

  describe('templates govern what they name', () => {
    it('the templates are listed with their domains', async () => {
      const list = await admin('GET', '/api/governance/policies/templates');
      assert.deepEqual(list.body.data.templates.map((t: { template_id: string }) => t.template_id), ['tpl_financial', 'tpl_healthcare', 'tpl_production_change']);
    });

    for (const [n, templateId] of ['tpl_financial', 'tpl_healthcare', 'tpl_production_change'].entries()) {
      it(`${templateId}: a dry run shows what it would install and changes nothing; once applied, unrelated actions are decided exactly as before`, async () => {
        const call = as(await secondOrg(s, `org_tpl_${n}`));
        const before = [];
        for (const [i, u] of UNRELATED.entries()) before.push(await decided(call, u.body(`unrelated-before-${i}`)));

        const dry = await call('POST', '/api/governance/policies/from-template', { template_id: templateId, name: 'Mine', dry_run: true });
        assert.equal(dry.status, 200, JSON.stringify(dry.body));
        assert.equal(dry.body.status, 'success');
        assert.equal(dry.body.data.dry_run, true);
        assert.ok(dry.body.data.rules.length >= 5, JSON.stringify(dry.body.data));
        assert.ok(dry.body.data.policies.length >= 1);
        for (const r of dry.body.data.rules) {
          assert.equal(r.rule_id, null, 'nothing is created, so nothing has an id');
          assert.match(r.name, /^Mine: /);
          assert.ok(r.conditions && r.action, JSON.stringify(r));
        }
        for (const p of dry.body.data.policies) {
          assert.equal(p.id, null);
          assert.match(p.name, /^Mine: /);
          assert.ok(p.definition, JSON.stringify(p));
        }
        assert.deepEqual(dry.body.data.conflicts, []);
        assert.equal((await call('GET', '/api/smart-rules')).body.data.total, 0, 'a dry run creates no rule');
        assert.equal((await call('GET', '/api/v1/policies')).body.count, 0, 'a dry run creates no policy');

        const made = await call('POST', '/api/governance/policies/from-template', { template_id: templateId, name: 'Mine' });
        assert.equal(made.status, 201, JSON.stringify(made.body));
        assert.deepEqual(made.body.data.rules.map((r: { name: string }) => r.name), dry.body.data.rules.map((r: { name: string }) => r.name), 'the dry run showed what was installed');
        assert.deepEqual(made.body.data.policies.map((p: { name: string }) => p.name), dry.body.data.policies.map((p: { name: string }) => p.name));
        // A second dry run names the policies that would collide.
        const again = await call('POST', '/api/governance/policies/from-template', { template_id: templateId, name: 'Mine', dry_run: true });
        assert.equal(again.status, 200);
        assert.deepEqual(again.body.data.conflicts, made.body.data.policies.map((p: { name: string }) => p.name));

        for (const [i, u] of UNRELATED.entries()) {
          const now = await decided(call, u.body(`unrelated-after-${i}`));
          assert.deepEqual(now, before[i], `${templateId} changed how "${u.label}" is decided`);
        }
      });
    }

    it('each template still governs its own domain', async () => {
      const call = as(await secondOrg(s, 'org_tpl_domains'));
      for (const t of ['tpl_financial', 'tpl_healthcare', 'tpl_production_change']) assert.equal((await call('POST', '/api/governance/policies/from-template', { template_id: t })).status, 201);
      const outcome = async (over: Record<string, unknown>) => (await call('POST', '/api/v1/governance/propose', proposal(over))).body;
      // Financial: transfers must carry their fields; a payments agent (group financial-agents) stays within financial capabilities; sanctions hold for payments.
      const transfer = await outcome({ action: { capability: 'payments.transfer', parameters: { amount: 50 } } });
      assert.equal(transfer.outcome, 'DENY');
      assert.match(transfer.reason, /argument_constraints/);
      const confined = await outcome({ action: { capability: 'email.send', parameters: {} }, context: { group_ids: ['financial-agents'], metadata: { environment: 'development' } } });
      assert.equal(confined.outcome, 'DENY');
      assert.match(confined.reason, /allowed_actions/);
      const sanctioned = await outcome({ action: { capability: 'payments.wire', parameters: { country: 'KP', amount: 5, currency: 'USD', to: 'x' } } });
      assert.equal(sanctioned.outcome, 'DENY');
      assert.match(sanctioned.reason, /Sanctioned/);
      // Healthcare: PHI leaving by mail escalates (the default risk score alone denies it; the rule still speaks); clinical records are not deleted quietly.
      const phi = await outcome({ action: { capability: 'email.send', parameters: {} }, data_classes: ['PHI'] });
      const phiReasons = (await call('GET', `/api/v1/governance/decisions/${phi.decision_id}`)).body.reasons as { name?: string; effect: string }[];
      assert.ok(phiReasons.some((r) => r.effect === 'ESCALATE' && /PHI export requires privacy officer/.test(r.name ?? '')), JSON.stringify(phiReasons));
      assert.equal((await outcome({ action: { capability: 'ehr.records.delete', parameters: {} } })).outcome, 'ESCALATE');
      // Production change: no force push to main; destructive database operations in production escalate.
      assert.equal((await outcome({ action: { capability: 'git.push', parameters: { force: true, branch: 'main' } } })).outcome, 'DENY');
      assert.equal((await outcome({ action: { capability: 'db.drop', parameters: {} }, context: { metadata: { environment: 'production' } } })).outcome, 'ESCALATE');
    });
  });

  describe('risk configuration: the defaults have an id, a partial configuration starts from the active one', () => {
    const harmless = (i: number) => proposal({ actor: { id: `risk-agent-${i}`, type: 'ai-agent' }, action: { capability: 'database.query', parameters: { query: 'SELECT 1' } } });

    it('activates a strict configuration, then the defaults again: the decision changes and changes back', async () => {
      const start = await admin('GET', '/api/risk-scoring/config');
      assert.equal(start.status, 200);
      assert.equal(start.body.data.config_id, 'defaults');
      assert.equal(start.body.data.is_active, true);
      assert.equal((await admin('POST', '/api/v1/governance/propose', harmless(1))).body.outcome, 'ALLOW');

      const strict = await admin('POST', '/api/risk-scoring/config', { name: 'strict', thresholds: { auto_approve_max: 5, require_approval_min: 6 }, activate: true });
      assert.equal(strict.status, 201, JSON.stringify(strict.body));
      assert.equal(strict.body.data.is_active, true);
      assert.equal(strict.body.data.based_on, 'defaults');
      assert.equal((await admin('POST', '/api/v1/governance/propose', harmless(2))).body.outcome, 'REQUIRE_CONFIRMATION', 'the strict thresholds send a harmless read to people');

      // A partial configuration starts from the active one: the strict thresholds stay, only the modifier changes.
      const partial = await admin('POST', '/api/risk-scoring/config', { name: 'strict, more PII', modifiers: { pii_data: 50 } });
      assert.equal(partial.status, 201, JSON.stringify(partial.body));
      assert.equal(partial.body.data.based_on, strict.body.data.config_id);
      assert.deepEqual(partial.body.data.thresholds, { auto_approve_max: 5, require_approval_min: 6, auto_deny_min: 95 });
      assert.equal(partial.body.data.modifiers.pii_data, 50);
      assert.equal(partial.body.data.is_active, false);

      const restore = await admin('PUT', '/api/risk-scoring/config/defaults/activate');
      assert.equal(restore.status, 200, JSON.stringify(restore.body));
      assert.equal(restore.body.data.config_id, 'defaults');
      assert.equal(restore.body.data.is_active, true);
      assert.deepEqual(restore.body.data.thresholds, { auto_approve_max: 30, require_approval_min: 31, auto_deny_min: 95 });
      const now = await admin('GET', '/api/risk-scoring/config');
      assert.equal(now.body.data.config_id, 'defaults');
      assert.ok(now.body.data.configs.every((c: { is_active: boolean }) => !c.is_active), 'no stored configuration is active');
      assert.equal((await admin('POST', '/api/v1/governance/propose', harmless(3))).body.outcome, 'ALLOW', 'the defaults decide again');

      // With the defaults active, a partial configuration starts from them.
      const fromDefaults = await admin('POST', '/api/risk-scoring/config', { modifiers: { pii_data: 10 } });
      assert.equal(fromDefaults.body.data.based_on, 'defaults');
      assert.deepEqual(fromDefaults.body.data.thresholds, { auto_approve_max: 30, require_approval_min: 31, auto_deny_min: 95 });
      // The defaults are not stored, so they cannot be changed in place; an unknown id is still a 404.
      assert.equal((await admin('PUT', '/api/risk-scoring/config/rcfg_nope/activate')).status, 404);
    });

    it('risk configuration writes need an admin key', async () => {
      const writer = (await admin('POST', '/api/v1/keys', { name: 'writer', scopes: ['governance:read', 'governance:write'] })).body.key as string;
      for (const [method, path, body] of [['POST', '/api/risk-scoring/config', { thresholds: { auto_approve_max: 1, require_approval_min: 2 } }], ['PUT', '/api/risk-scoring/config/defaults/activate', undefined]] as const) {
        const r = await as(writer)(method, path, body);
        assert.equal(r.status, 403, `${method} ${path}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.status, 'error');
      }
    });
  });

  describe('agent policies: GET round-trips through PUT; versions outlive DELETE', () => {
    it("a policy's own GET answer is a valid PUT body (server fields ignored)", async () => {
      const made = await admin('POST', '/api/v1/policies', { name: 'round trip', scope: 'agent', target_id: 'rt-agent', denied_actions: ['files.delete'], run_budget: 100 });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      const got = await admin('GET', `/api/v1/policies/${made.body.id}`);
      const put = await admin('PUT', `/api/v1/policies/${made.body.id}`, got.body);
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.equal(put.body.id, made.body.id);
      assert.deepEqual(put.body.denied_actions, ['files.delete']);
      assert.equal(put.body.target_id, 'rt-agent');
      assert.notEqual(put.body.current_version_id, got.body.current_version_id, 'a PUT is a new version');
      // Server fields that disagree are ignored too: they never rename, move or re-date the policy.
      const odd = await admin('PUT', `/api/v1/policies/${made.body.id}`, { ...got.body, id: 'pol_other', created_at: '2000-01-01T00:00:00Z', current_version_id: 'pv_other', template_id: 'tpl_other', run_budget: 200 });
      assert.equal(odd.status, 200, JSON.stringify(odd.body));
      assert.equal(odd.body.id, made.body.id);
      assert.equal(odd.body.created_at, made.body.created_at);
      assert.equal(odd.body.template_id, null);
      assert.equal(odd.body.run_budget, 200);
      // A field that is no policy field at all is still refused.
      const unknown = await admin('PUT', `/api/v1/policies/${made.body.id}`, { budgetz: 1 });
      assert.equal(unknown.status, 400);
    });

    it('deleting a policy keeps its version history readable', async () => {
      const made = await admin('POST', '/api/v1/policies', { name: 'short lived', denied_actions: ['a.*'] });
      await admin('PUT', `/api/v1/policies/${made.body.id}`, { denied_actions: ['b.*'] });
      const versions = (await admin('GET', `/api/v1/policies/${made.body.id}/versions`)).body.items;
      assert.equal(versions.length, 2);
      assert.equal((await admin('DELETE', `/api/v1/policies/${made.body.id}`)).status, 204);
      assert.equal((await admin('GET', `/api/v1/policies/${made.body.id}`)).status, 404, 'the policy is gone');

      const after = await admin('GET', `/api/v1/policies/${made.body.id}/versions`);
      assert.equal(after.status, 200, JSON.stringify(after.body));
      assert.deepEqual(after.body.items.map((v: { id: string }) => v.id), versions.map((v: { id: string }) => v.id));
      assert.deepEqual(after.body.items.map((v: { status: string }) => v.status), ['archived', 'archived'], 'no version of a deleted policy is active');
      const one = await admin('GET', `/api/v1/policies/${made.body.id}/versions/${versions[1].id}`);
      assert.equal(one.status, 200, JSON.stringify(one.body));
      assert.deepEqual(one.body.policy_data.denied_actions, ['a.*']);
      const diff = await admin('GET', `/api/v1/policies/${made.body.id}/diff?from=${versions[1].id}&to=${versions[0].id}`);
      assert.equal(diff.status, 200, JSON.stringify(diff.body));
      // The history is read only: nothing new is written to a deleted policy.
      assert.equal((await admin('POST', `/api/v1/policies/${made.body.id}/versions`, { policy_data: { name: 'short lived' } })).status, 404);
      assert.equal((await admin('POST', `/api/v1/policies/${made.body.id}/versions/${versions[1].id}/rollback`)).status, 404);
      // A policy that never was is still a 404.
      assert.equal((await admin('GET', '/api/v1/policies/pol_never/versions')).status, 404);
    });
  });

  describe('an agent key reads the decisions it made', () => {
    it('governance:propose alone reads its own decisions by id and in the list; others stay 404', async () => {
      const mint = async (name: string, scopes: string[]) => (await admin('POST', '/api/v1/keys', { name, scopes })).body.key as string;
      const agentA = as(await mint('agent A', ['governance:propose']));
      const agentB = as(await mint('agent B', ['governance:propose']));
      const reader = as(await mint('reader', ['governance:read']));
      const writer = as(await mint('writer', ['governance:write']));
      const made = async (call: Call, actor: string) => {
        const r = await call('POST', '/api/v1/governance/propose', proposal({ actor: { id: actor, type: 'ai-agent' } }));
        assert.equal(r.status, 200, JSON.stringify(r.body));
        return r.body.decision_id as string;
      };
      const a1 = await made(agentA, 'own-agent-a');
      const a2 = await made(agentA, 'own-agent-a2');
      const b1 = await made(agentB, 'own-agent-b');
      const x1 = await made(admin, 'own-agent-a');

      const one = await agentA('GET', `/api/v1/governance/decisions/${a1}`);
      assert.equal(one.status, 200, JSON.stringify(one.body));
      assert.equal(one.body.decision_id, a1);
      assert.equal(one.body.outcome, 'ALLOW');
      assert.equal((await agentA('GET', `/api/v1/governance/decisions/${a1}?wait=1`)).status, 200);
      for (const other of [b1, x1, 'dec_nope']) {
        const r = await agentA('GET', `/api/v1/governance/decisions/${other}`);
        assert.equal(r.status, 404, `${other}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.error.code, 'NOT_FOUND');
      }
      assert.equal((await agentB('GET', `/api/v1/governance/decisions/${b1}`)).status, 200);
      assert.equal((await agentB('GET', `/api/v1/governance/decisions/${a1}`)).status, 404);

      const listA = await agentA('GET', '/api/v1/governance/decisions?limit=200');
      assert.equal(listA.status, 200, JSON.stringify(listA.body));
      assert.deepEqual(listA.body.decisions.map((d: { decision_id: string }) => d.decision_id), [a2, a1]);
      // Filters and paging work within its own decisions.
      const filtered = await agentA('GET', '/api/v1/governance/decisions?actor_id=own-agent-a');
      assert.deepEqual(filtered.body.decisions.map((d: { decision_id: string }) => d.decision_id), [a1]);
      const page1 = await agentA('GET', '/api/v1/governance/decisions?limit=1');
      assert.deepEqual(page1.body.decisions.map((d: { decision_id: string }) => d.decision_id), [a2]);
      const page2 = await agentA('GET', `/api/v1/governance/decisions?limit=1&cursor=${page1.body.next_cursor}`);
      assert.deepEqual(page2.body.decisions.map((d: { decision_id: string }) => d.decision_id), [a1]);
      assert.equal(page2.body.next_cursor, null);

      // A governance:read key still reads everything; a key with neither scope reads nothing.
      const all = (await reader('GET', '/api/v1/governance/decisions?limit=200')).body.decisions.map((d: { decision_id: string }) => d.decision_id);
      for (const id of [a1, a2, b1, x1]) assert.ok(all.includes(id), id);
      assert.equal((await reader('GET', `/api/v1/governance/decisions/${b1}`)).status, 200);
      assert.equal((await writer('GET', `/api/v1/governance/decisions/${a1}`)).status, 403);
      assert.equal((await writer('GET', '/api/v1/governance/decisions')).status, 403);
      // Its input is validated like anyone's.
      const bad = await agentA('GET', '/api/v1/governance/decisions?limit=0');
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.field, 'limit');
    });
  });

  describe('keys bound to people', () => {
    it('an empty user_id is refused, naming user_id', async () => {
      const r = await admin('POST', '/api/v1/keys', { name: 'nobody', scopes: ['governance:read'], user_id: '' });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.error.field, 'user_id');
    });

    it('a key for a person who does not exist is refused, naming user_id', async () => {
      const before = (await admin('GET', '/api/v1/keys?limit=200')).body.total;
      const r = await admin('POST', '/api/v1/keys', { name: 'ghost', scopes: ['governance:read'], user_id: 'usr_ghost' });
      assert.equal(r.status, 404, JSON.stringify(r.body));
      assert.equal(r.body.error.field, 'user_id');
      assert.match(r.body.error.message, /usr_ghost/);
      assert.equal((await admin('GET', '/api/v1/keys?limit=200')).body.total, before, 'no key was minted');
    });
  });
});
