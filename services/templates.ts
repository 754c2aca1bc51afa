/**
 * Policy templates (seed 002): starting points a practitioner would recognise.
 * Each brings smart rules and agent policies; applying one creates them in the
 * organization (POST /api/governance/policies/from-template, `dry_run: true`
 * to see them first).
 *
 * A template governs what it names and nothing else: every rule's conditions
 * and every global policy field are limited to the template's own actions or
 * data (payments and trading, PHI, deploys and infrastructure). An action
 * outside that domain is decided exactly as before the template was applied
 * (test/api/contract-fixes.test.ts holds each template to it). So: no global
 * `allowed_actions` (an allow-list denies everything else: it belongs on a
 * `group` / `agent` scope), no global `run_budget` or `approval_threshold_usd`
 * (they count every action's amount: use `action_budgets` and `approval_rules`
 * with an action condition), no global `approval_risk_levels` (use an
 * `approval_rules` entry that names the domain's data).
 */

export interface TemplateRule {
  name: string;
  description: string;
  priority: number;
  conditions: Record<string, unknown>;
  action: 'AUTO_APPROVE' | 'REQUIRE_APPROVAL' | 'DENY' | 'ESCALATE' | 'NOTIFY';
  approval_level?: number;
}

export interface Template {
  template_id: string;
  name: string;
  description: string;
  categories: string[];
  rules: TemplateRule[];
  /** Agent policies in the PolicyCreate shape of /api/v1/policies. */
  policies: Record<string, unknown>[];
}

export const TEMPLATES: Template[] = [
  {
    template_id: 'tpl_financial',
    name: 'Financial Services',
    description: 'Pre-configured rules for financial operations: trade and payment limits, four-eyes on large transfers, sanctions and after-hours controls (SOX, PCI-DSS, SEC 15c3-5 style pre-trade checks).',
    categories: ['trading', 'payments', 'compliance'],
    rules: [
      { name: 'High-value trade approval', description: 'Trades of $50,000 or more need a manager.', priority: 100, conditions: { action_type: { $in: ['trade_execution', 'trading.execute'] }, 'parameters.amount': { $gte: 50000 } }, action: 'REQUIRE_APPROVAL', approval_level: 1 },
      { name: 'Very large trade escalation', description: 'Trades of $1M or more go straight to senior approvers.', priority: 110, conditions: { action_type: { $in: ['trade_execution', 'trading.execute'] }, 'parameters.amount': { $gte: 1000000 } }, action: 'ESCALATE', approval_level: 2 },
      { name: 'Block after-hours trading', description: 'No trades outside 06:00-18:00 UTC.', priority: 120, conditions: { action_type: { $in: ['trade_execution', 'trading.execute'] }, time_of_day: { $gte: '18:00', $lte: '06:00' } }, action: 'DENY' },
      { name: 'Sanctioned jurisdictions', description: 'Payments and trades with sanctioned countries are refused (OFAC list).', priority: 200, conditions: { action_type: { $regex: '^(payments|trading|ledger)\\.|^trade_execution$' }, 'parameters.country': { $in: ['KP', 'IR', 'SY', 'CU'] } }, action: 'DENY' },
      { name: 'Large payment four-eyes', description: 'Outbound payments of $10,000 or more need two people.', priority: 90, conditions: { action_type: { $regex: '^payments\\.(transfer|wire|payout)' }, amount: { $gte: 10000 } }, action: 'REQUIRE_APPROVAL' },
      { name: 'Card data export', description: 'Any export touching PCI data escalates.', priority: 95, conditions: { data_classes: { $contains: 'PCI' }, action_type: { $regex: '(export|download)' } }, action: 'ESCALATE' },
      { name: 'Refunds notify finance', description: 'Refunds proceed but finance is told.', priority: 10, conditions: { action_type: { $regex: 'refund' } }, action: 'NOTIFY' },
      { name: 'Read-only market data', description: 'Quotes and positions reads are pre-approved.', priority: 5, conditions: { action_type: { $in: ['market.quote', 'positions.read', 'market_data.read'] } }, action: 'AUTO_APPROVE' },
    ],
    policies: [
      {
        name: 'Payments guardrails',
        description: 'Per-run payment cap, payment rate limit, two approvers for payments of $10,000 or more, and a schema on transfers. Applies to payments actions only.',
        scope: 'global',
        action_budgets: { 'payments.**': 250000 },
        denied_actions: ['payments.*.delete', 'ledger.delete'],
        rate_limits: [{ action: 'payments.*', max: 30, window_seconds: 60, per: 'agent' }],
        approval_rules: [{ name: 'Payments of $10,000 or more', conditions: { action_type: { $regex: '^payments\\.' }, amount: { $gte: 10000 } }, quorum: 2 }],
        approval_timeout_seconds: 3600,
        argument_constraints: { 'payments.transfer': { type: 'object', required: ['amount', 'currency', 'to'], properties: { amount: { type: 'number', exclusiveMinimum: 0, maximum: 5000000 }, currency: { type: 'string', pattern: '^[A-Z]{3}$' }, to: { type: 'string', minLength: 1 } } } },
      },
      {
        name: 'Financial agents allow-list',
        description: 'Agents that declare the group financial-agents (context.group_ids) may use financial capabilities only. Other agents are not affected.',
        scope: 'group',
        target_id: 'financial-agents',
        allowed_actions: ['payments.**', 'market.**', 'market_data.**', 'positions.**', 'trading.**', 'trade_execution', 'ledger.**', 'reports.**'],
      },
    ],
  },
  {
    template_id: 'tpl_healthcare',
    name: 'Healthcare',
    description: 'HIPAA-aligned governance: minimum necessary PHI access, no PHI leaving the covered entity without review, consent checks, and break-glass escalation (45 CFR 164.312, 164.502(b)).',
    categories: ['phi', 'consent', 'audit'],
    rules: [
      { name: 'PHI export requires privacy officer', description: 'Exports or disclosures of PHI escalate.', priority: 200, conditions: { data_classes: { $contains: 'PHI' }, action_type: { $regex: '(export|share|disclose|send|email)' } }, action: 'ESCALATE', approval_level: 2 },
      { name: 'Bulk PHI read needs approval', description: 'Reading more than 100 patient records at once is not minimum necessary.', priority: 150, conditions: { data_classes: { $contains: 'PHI' }, 'parameters.limit': { $gt: 100 } }, action: 'REQUIRE_APPROVAL' },
      { name: 'No PHI to external APIs', description: 'PHI never goes to a third-party endpoint without a BAA.', priority: 250, conditions: { data_classes: { $contains: 'PHI' }, target: { $regex: '^https?://' }, 'metadata.baa_signed': { $ne: true } }, action: 'DENY' },
      { name: 'Consent required for research use', description: 'Research use of PHI needs recorded consent.', priority: 180, conditions: { data_classes: { $contains: 'PHI' }, 'parameters.purpose': 'research', 'metadata.consent_id': { $exists: false } }, action: 'DENY' },
      { name: 'Delete of clinical records', description: 'Clinical records are retained; deletion escalates.', priority: 220, conditions: { action_type: { $regex: '^(ehr|emr|clinical|charts?|patients?|medical_records)[._].*(delete|purge)' } }, action: 'ESCALATE' },
      { name: 'De-identified reads', description: 'De-identified data reads are pre-approved.', priority: 5, conditions: { data_classes: { $in: ['deidentified', 'de-identified'] }, action_type: { $regex: '(read|query|list)$' } }, action: 'AUTO_APPROVE' },
    ],
    policies: [
      {
        name: 'PHI handling',
        description: 'PHI actions require approval from the privacy team and recent consent evidence. Applies to PHI and EHR actions only.',
        scope: 'global',
        approval_tags: ['phi'],
        approval_rules: [{ name: 'High-risk PHI actions', conditions: { data_classes: { $in: ['PHI', 'phi', 'health'] }, risk_score: { $gte: 50 } } }],
        approval_timeout_seconds: 1800,
        commit_actions: ['ehr.*.update', 'ehr.*.write'],
        evidence_actions: ['consent.verify', 'patient.lookup'],
        evidence_max_age_seconds: 3600,
        denied_actions: ['ehr.*.purge'],
      },
    ],
  },
  {
    template_id: 'tpl_production_change',
    name: 'Production Change / Software Delivery',
    description: 'Change management for agents that ship software: reviewed deploys, change freezes, destructive infrastructure operations and secrets (ITIL change enablement, SOC 2 CC8.1).',
    categories: ['deploy', 'infrastructure', 'change-management'],
    rules: [
      { name: 'Production deploy needs review', description: 'Deploys to production need an approver.', priority: 100, conditions: { action_type: { $regex: '(deploy|release|rollout)' }, environment: { $in: ['production', 'prod'] } }, action: 'REQUIRE_APPROVAL' },
      { name: 'Weekend change freeze', description: 'No production changes on weekends.', priority: 150, conditions: { environment: { $in: ['production', 'prod'] }, day_of_week: { $in: ['sat', 'sun'] }, action_type: { $regex: '(deploy|migrate|apply)' } }, action: 'DENY' },
      { name: 'Destructive infra operations', description: 'Dropping databases or deleting clusters escalates.', priority: 200, conditions: { action_type: { $regex: '^(db|database|databases|infra|infrastructure|cluster|clusters|k8s|kubernetes|terraform|cloud|vm|vms|instance|instances|storage|bucket|buckets|dns)[._].*(drop|destroy|terminate|delete)' }, environment: { $in: ['production', 'prod'] } }, action: 'ESCALATE', approval_level: 2 },
      { name: 'Force push to main', description: 'Never rewrite protected branches.', priority: 250, conditions: { action_type: { $in: ['git.push', 'vcs.push'] }, 'parameters.force': true, 'parameters.branch': { $in: ['main', 'master', 'release'] } }, action: 'DENY' },
      { name: 'Secrets access notifies security', description: 'Reading secrets proceeds and security is told.', priority: 20, conditions: { action_type: { $regex: '^secrets\\.' } }, action: 'NOTIFY' },
      { name: 'Low-risk non-prod', description: 'Dev and staging changes are pre-approved.', priority: 1, conditions: { environment: { $in: ['development', 'dev', 'staging', 'test'] }, action_type: { $regex: '(deploy|release|rollout|migrate|apply)' } }, action: 'AUTO_APPROVE' },
    ],
    policies: [
      { name: 'Change management', description: 'A deploy needs passing CI evidence from the same run, within an hour.', scope: 'global', commit_actions: ['deploy.*', 'release.*'], evidence_requirements: [{ action: 'deploy.*', requires: ['ci.tests.pass', 'ci.checks.pass'], within: 'run', max_age_seconds: 3600 }], rate_limits: [{ action: 'deploy.*', max: 5, window_seconds: 3600, per: 'agent' }], approval_actions: ['db.migrate', 'infra.apply'], approval_timeout_seconds: 7200, grounding_rules: [{ action: 'deploy.*', parameter: 'commit_sha', evidence_action: 'ci.tests.pass', evidence_path: 'commit_sha' }] },
    ],
  },
];
