// Records histories of the proposal workflow for the replay test: run it once with
// `node --import tsx test/replay/record.ts` after a deliberate change to the workflow's
// commands, and keep the old files too (they are what running workflows look like).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addUser, linkIn, postForm, proposal } from '../helpers/fixtures';
import { startSmtp } from '../helpers/smtp';
import { startStack } from '../helpers/stack';

async function main(): Promise<void> {
  const smtp = await startSmtp();
  const s = await startStack({ env: { SMTP_URL: smtp.url, APPROVAL_TIER1_TIMEOUT_SECONDS: '2', APPROVAL_TIER2_TIMEOUT_SECONDS: '600' } });
  try {
    await addUser(s, 'ann@example.com', ['approver']);
    await addUser(s, 'boss@example.com', ['admin']);
    await s.call('POST', '/api/smart-rules', { body: { name: 'Transfers', conditions: { action_type: 'payments.transfer' }, action: 'REQUIRE_APPROVAL' } });
    // Escalated (tier 1 silent for 2 s), then approved by the admin at tier 2.
    const p = await s.call('POST', '/api/v1/governance/propose', { body: proposal({ action: { capability: 'payments.transfer', parameters: { amount: 10 } } }) });
    const id = p.body.decision_id as string;
    const mail = await smtp.waitFor((m) => m.to === 'boss@example.com' && m.text.includes(id), 20_000);
    await postForm(linkIn(mail.text), { decision: 'approve' });
    await s.call('GET', `/api/v1/governance/decisions/${id}?wait=20`);
    const history = await s.temporal.client.workflow.getHandle(`proposal-${id}`).fetchHistory();
    const file = join(__dirname, 'histories', 'proposal-escalated-approved.json');
    // protobufjs messages serialise with enum names and 64-bit numbers as strings.
    writeFileSync(file, JSON.stringify(history, null, 1));
    console.log(`wrote ${file}`);
  } finally {
    await s.close();
    await smtp.close();
  }
}
void main();
