import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { validatePolicyDef } from '../engine/policy-schema';
import type { PolicyDef } from '../engine/policy-schema';
import { compilePolicies } from '../engine/policies';

export interface CompileError {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export type CompileResult = { ok: true; format: 'yaml' | 'json' | 'prose'; policy: PolicyDef; yaml?: string } | { ok: false; format: 'yaml' | 'json' | 'prose'; errors: CompileError[] };

export interface LlmConfig {
  baseUrl: string;
  apiKey?: string;
  model: string;
}

const SYSTEM_PROMPT = `You turn a governance policy written in prose into YAML for Arbiter's PolicyCreate schema.
Answer with YAML only, no prose, no code fences. Allowed top-level keys: name, description, is_active, scope (global|agent|run|group|mission), target_id,
priority, run_budget, session_budget, action_budgets, allowed_actions, denied_actions, rate_limits (action, max, window_seconds, per),
require_approval, approval_actions, approval_tags, approval_risk_levels (low|medium|high|critical), approval_threshold_usd,
approval_timeout_seconds, default_approvers, approval_quorum, approval_rules (name, conditions, approvers, quorum, timeout_seconds),
commit_actions, evidence_actions, evidence_max_age_seconds, evidence_requirements (action, requires, within, max_age_seconds),
argument_constraints (action glob -> JSON Schema), grounding_rules (action, parameter, evidence_action, evidence_path).
Actions are dotted names; globs use * for one segment and ** for many.`;

/**
 * Compiles a policy from YAML or JSON (or prose, through a configured LLM) into
 * a validated PolicyCreate document, or structured errors with their location.
 */
export class PolicyCompiler {
  constructor(private readonly llm: LlmConfig | null, private readonly fetchImpl: typeof fetch = fetch) {}

  async compile(source: string, format: 'auto' | 'yaml' | 'json' | 'prose' = 'auto'): Promise<CompileResult | { ok: false; format: 'prose'; needsLlm: true }> {
    const kind = format === 'auto' ? detect(source) : format;
    if (kind === 'prose') {
      if (!this.llm) return { ok: false, format: 'prose', needsLlm: true };
      const yaml = await this.prose(source, this.llm);
      const r = compileYaml(yaml, 'prose');
      return r.ok ? { ...r, yaml } : r;
    }
    return kind === 'json' ? compileJson(source) : compileYaml(source, 'yaml');
  }

  private async prose(text: string, llm: LlmConfig): Promise<string> {
    const res = await this.fetchImpl(`${llm.baseUrl.replace(/\/$/, '')}/chat/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(llm.apiKey ? { Authorization: `Bearer ${llm.apiKey}` } : {}) },
      body: JSON.stringify({ model: llm.model, temperature: 0, messages: [{ role: 'system', content: SYSTEM_PROMPT }, { role: 'user', content: text }] }),
      signal: AbortSignal.timeout(30_000),
    });
    if (!res.ok) throw new Error(`LLM endpoint answered ${res.status}`);
    const body = (await res.json()) as { choices?: { message?: { content?: string } }[] };
    const content = body.choices?.[0]?.message?.content ?? '';
    return content.replace(/^```(?:ya?ml)?\s*/i, '').replace(/```\s*$/, '');
  }
}

function detect(source: string): 'yaml' | 'json' | 'prose' {
  const t = source.trim();
  if (t.startsWith('{')) return 'json';
  const doc = parseDocument(t);
  if (doc.errors.length === 0 && isMap(doc.contents)) return 'yaml';
  // A YAML mapping with syntax errors is still YAML; a paragraph of text is prose.
  return /^[A-Za-z_][\w-]*\s*:/m.test(t) && !/[.!?]\s*$/.test(t.split('\n')[0]) ? 'yaml' : 'prose';
}

function validate(value: unknown, format: 'yaml' | 'json' | 'prose', locate: (path: string) => { line?: number; column?: number }): CompileResult {
  const v = validatePolicyDef(value);
  if (!v.ok) return { ok: false, format, errors: v.errors.map((e) => ({ path: e.path, message: e.message, ...locate(e.path) })) };
  try {
    compilePolicies([{ ...v.value, id: 'pol_compile' }]);
  } catch (e) {
    const err = e as { path?: string; message: string };
    return { ok: false, format, errors: [{ path: err.path ?? '', message: err.message, ...locate(err.path ?? '') }] };
  }
  return { ok: true, format, policy: v.value };
}

function compileYaml(source: string, format: 'yaml' | 'prose'): CompileResult {
  const lc = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length) {
    return { ok: false, format, errors: doc.errors.map((e) => { const p = lc.linePos(e.pos[0]); return { path: '', message: e.message.split('\n')[0], line: p.line, column: p.col }; }) };
  }
  if (!isMap(doc.contents)) return { ok: false, format, errors: [{ path: '', message: 'a policy is a mapping of fields', line: 1, column: 1 }] };
  return validate(doc.toJS(), format, (path) => {
    const segs = path ? path.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s)) : [];
    for (let n = segs.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(segs.slice(0, n), true);
      const range = (node as { range?: [number, number, number] } | undefined)?.range;
      if (range && (n === 0 || isMap(node) || isSeq(node) || node)) {
        const p = lc.linePos(range[0]);
        return { line: p.line, column: p.col };
      }
    }
    return {};
  });
}

function compileJson(source: string): CompileResult {
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (e) {
    const m = /position (\d+)/.exec((e as Error).message);
    const pos = m ? Number(m[1]) : 0;
    const before = source.slice(0, pos).split('\n');
    return { ok: false, format: 'json', errors: [{ path: '', message: (e as Error).message, line: before.length, column: before[before.length - 1].length + 1 }] };
  }
  return validate(value, 'json', () => ({}));
}
