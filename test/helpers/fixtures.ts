import { ApiKey, Organization } from '../../entities';
import { ApiKeyService, generateKeySecret } from '../../services/auth';
import type { Stack } from './stack';

/** A proposal body in Aegis's shape, with overrides. */
export function proposal(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    actor: { id: 'agent-001', type: 'ai-agent' },
    action: { capability: 'database.query', parameters: { query: 'SELECT 1', database: 'analytics' } },
    context: { session_id: 'sess_1', metadata: { environment: 'development' } },
    ...over,
  };
}

/** Creates a person through the API and returns its id. */
export async function addUser(stack: Stack, email: string, roles: string[], name = email.split('@')[0]): Promise<string> {
  const r = await stack.call('POST', '/api/v1/users', { body: { email, name, roles } });
  if (r.status !== 201) throw new Error(`add user ${email}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id as string;
}

/** Mints a key through the API. */
export async function mintKey(stack: Stack, scopes: string[], role: 'admin' | 'member' = 'member'): Promise<string> {
  const r = await stack.call('POST', '/api/v1/keys', { body: { name: `k-${scopes.join('-')}`, scopes, role } });
  if (r.status !== 201) throw new Error(`mint key: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.key as string;
}

/** A second organization with its own admin key, created directly (Arbiter has no org-signup API yet). */
export async function secondOrg(stack: Stack, id = 'org_other'): Promise<string> {
  await stack.core.ds.getRepository(Organization).insert({ id, name: 'Other', governanceMode: 'ENFORCED' });
  const secret = generateKeySecret();
  await stack.core.ds.getRepository(ApiKey).insert(ApiKeyService.keyRow(id, { name: 'other admin', scopes: ['governance:read', 'governance:write', 'governance:propose'], role: 'admin' }, secret));
  return secret;
}

/** The approval link in a mail's text. */
export function linkIn(text: string): string {
  const m = /(http:\/\/\S+\/approve\/\S+)/.exec(text);
  if (!m) throw new Error(`no approval link in: ${text}`);
  return m[1];
}

/** Posts the approval page's form as a browser would. */
export async function postForm(url: string, fields: Record<string, string>): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
  return { status: res.status, text: await res.text() };
}
