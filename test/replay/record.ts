// Records histories of the proposal workflow for the replay test: run it with
// `node --import tsx test/replay/record.ts [scenario ...]` after a deliberate change to the
// workflow's commands, and keep the old files too (they are what running workflows look like).
// Scenarios: escalated (tier 1 silent, the admin approves at tier 2), callback (approved,
// then the agent's callback_url answers 503 once and 204 after), gate (a governance gate
// submission that the reviewer approves by its emailed link).
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gateWorkflowId } from '../../workflows/gate-contract';
import { addUser, linkIn, postForm, proposal } from '../helpers/fixtures';
import { startSmtp } from '../helpers/smtp';
import { startStack } from '../helpers/stack';
import type { Stack } from '../helpers/stack';

type Smtp = Awaited<ReturnType<typeof startSmtp>>;

/** The workflow code's generation the recordings are made with (the approval core's patch). */
const GENERATION = 'approval-core-v1';

/** Saves the history of the proposal workflow of decision `id`, or of the workflow `workflowId` when given. */
async function save(s: Stack, id: string, name: string, workflowId?: string): Promise<void> {
  if (!workflowId) await s.call('GET', `/api/v1/governance/decisions/${id}?wait=20`);
  const handle = s.temporal.client.workflow.getHandle(workflowId ?? `proposal-${id}`);
  await handle.result();
  const history = await handle.fetchHistory();
  // Each generation of the workflow's commands keeps its own files: running executions of every generation must replay.
  const file = join(__dirname, 'histories', `${name}.${GENERATION}.json`);
  // protobufjs messages serialise with enum names and 64-bit numbers as strings.
  writeFileSync(file, JSON.stringify(history, null, 1));
  console.log(`wrote ${file}`);
}

const scenarios: Record<string, (smtp: Smtp) => Promise<void>> = {
  async escalated(smtp) {
    const s = await startStack({ env: { SMTP_URL: smtp.url, APPROVAL_TIER1_TIMEOUT_SECONDS: '2', APPROVAL_TIER2_TIMEOUT_SECONDS: '600' } });
    try {
      await addUser(s, 'ann@example.com', ['approver']);
      await addUser(s, 'boss@example.com', ['admin']);
      await s.call('POST', '/api/smart-rules', { body: { name: 'Transfers', conditions: { action_type: 'payments.transfer' }, action: 'REQUIRE_APPROVAL' } });
      const p = await s.call('POST', '/api/v1/governance/propose', { body: proposal({ action: { capability: 'payments.transfer', parameters: { amount: 10 } } }) });
      const id = p.body.decision_id as string;
      const mail = await smtp.waitFor((m) => m.to === 'boss@example.com' && m.text.includes(id), 20_000);
      await postForm(linkIn(mail.text), { decision: 'approve' });
      await save(s, id, 'proposal-escalated-approved');
    } finally {
      await s.close();
    }
  },
  async callback(smtp) {
    let calls = 0;
    const hook = createServer((_req, res) => {
      calls += 1;
      res.statusCode = calls === 1 ? 503 : 204;
      res.end();
    });
    await new Promise<void>((ok) => hook.listen(0, '127.0.0.1', ok));
    const s = await startStack({ env: { SMTP_URL: smtp.url, APPROVAL_TIER1_TIMEOUT_SECONDS: '600' } });
    try {
      await addUser(s, 'cal@example.com', ['approver']);
      await s.call('POST', '/api/smart-rules', { body: { name: 'Transfers', conditions: { action_type: 'payments.transfer' }, action: 'REQUIRE_APPROVAL' } });
      const callback_url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
      const p = await s.call('POST', '/api/v1/governance/propose', { body: proposal({ callback_url, action: { capability: 'payments.transfer', parameters: { amount: 11 } } }) });
      const id = p.body.decision_id as string;
      const mail = await smtp.waitFor((m) => m.to === 'cal@example.com' && m.text.includes(id), 20_000);
      await postForm(linkIn(mail.text), { decision: 'approve' });
      await save(s, id, 'proposal-approved-callback');
    } finally {
      await s.close();
      hook.close();
    }
  },
  async gate(smtp) {
    const s = await startStack({ env: { SMTP_URL: smtp.url, APPROVAL_TIER1_TIMEOUT_SECONDS: '600' } });
    try {
      await addUser(s, 'rita@example.com', ['approver']);
      await addUser(s, 'boss@example.com', ['admin']);
      const pol = await s.call('POST', '/api/v1/governance/policies', {
        body: {
          name: 'Production Deployment Gate',
          description: 'Requires security review before production deploys',
          category: 'security',
          severity: 'high',
          applicableResourceTypes: ['app'],
          isActive: true,
          isDraft: false,
          stages: [{ id: 'stage_1', name: 'Security Review', gates: [{ id: 'gate_sec_1', type: 'approval' }] }],
        },
      });
      if (pol.status !== 201) throw new Error(`create policy: ${pol.status} ${JSON.stringify(pol.body)}`);
      const policyId = pol.body.policyId as string;
      const sol = await s.call('POST', '/api/v1/governance/solutions', { body: { name: 'Customer Portal', resources: [{ type: 'app', id: 'app-1' }] } });
      if (sol.status !== 201) throw new Error(`create solution: ${sol.status} ${JSON.stringify(sol.body)}`);
      const solutionId = sol.body.solutionId as string;
      const sub = await s.call('POST', `/api/v1/governance/solutions/${solutionId}/gates/gate_sec_1/submit`, { body: { policyId, data: { notes: 'x' } } });
      if (sub.status !== 200) throw new Error(`submit gate: ${sub.status} ${JSON.stringify(sub.body)}`);
      const id = sub.body._id as string;
      const mail = await smtp.waitFor((m) => m.to === 'rita@example.com' && m.text.includes(id), 20_000);
      const voted = await postForm(linkIn(mail.text), { decision: 'approve' });
      if (voted.status !== 200) throw new Error(`approve by link: ${voted.status} ${voted.text.slice(0, 300)}`);
      await save(s, id, 'gate-approved', gateWorkflowId(id));
      const after = await s.call('GET', `/api/v1/governance/gate-submissions/${id}`);
      if (after.body.status !== 'approved') throw new Error(`the gate submission ended ${JSON.stringify(after.body.status)}, not approved`);
    } finally {
      await s.close();
    }
  },
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const smtp = await startSmtp();
  try {
    for (const name of wanted.length ? wanted : Object.keys(scenarios)) {
      const run = scenarios[name];
      if (!run) throw new Error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(', ')}`);
      await run(smtp);
    }
  } finally {
    await smtp.close();
  }
}
void main();
