import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveRecipients } from '../../activities/notification-recipients';

const users = [
  { id: 'usr_a', email: 'Ann@Example.com', name: 'Ann', roles: ['admin'] },
  { id: 'usr_b', email: 'bo@example.com', name: 'Bo', roles: ['approver'] },
  { id: 'usr_c', email: 'cy@example.com', name: 'Cy', roles: ['approver', 'admin'] },
];

describe('notification recipients', () => {
  it('a request with no channels goes to the admins', () => {
    const r = resolveRecipients([{ channels: [] }], users);
    assert.deepEqual(r.people.map((p) => p.userId).sort(), ['usr_a', 'usr_c']);
    assert.deepEqual(r.undelivered, []);
  });

  it('resolves emails (known or not), user ids and role names, each person once', () => {
    const r = resolveRecipients([{ channels: ['ann@example.com', 'usr_b', 'approvers'] }, { channels: ['ops@corp.example', 'admins'] }], users);
    assert.deepEqual(r.people.map((p) => p.email).sort(), ['Ann@Example.com', 'bo@example.com', 'cy@example.com', 'ops@corp.example']);
  });

  it('reports channels email cannot reach instead of dropping them', () => {
    const r = resolveRecipients([{ channels: ['slack-trading-alerts', '#ops', 'usr_missing'] }], users);
    assert.deepEqual(r.people, []);
    assert.deepEqual(r.undelivered, ['slack-trading-alerts', '#ops', 'usr_missing']);
  });
});
