import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { automatedGatePasses, blockersOf, blockingStage, checkAnswers, checkGatePolicy, locateGate, policyApplies, requirements, RESOURCE_TYPES, solutionStatus } from '../../engine/gates';
import type { FieldProblem, GateDef, GatePolicyDef, PolicyRequirement, PolicyView, StageDef, SubmissionStatus, SubmissionView } from '../../engine/gates';

// ---- builders: every case below spells out only what it is about

const gate = (id: string, over: Partial<GateDef> = {}): GateDef => ({ id, type: 'approval', ...over });
const stage = (id: string, gates: GateDef[], name = `Stage ${id}`): StageDef => ({ id, name, gates });

/** A valid policy: one stage of one approval gate, active, published, for apps. */
const def = (over: Partial<GatePolicyDef> = {}): GatePolicyDef => ({
  name: 'Production Deployment Gate',
  description: 'Requires security review before production deploys',
  category: 'security',
  severity: 'high',
  applicableResourceTypes: ['app'],
  stages: [stage('stage_1', [gate('gate_sec_1')])],
  isActive: true,
  isDraft: false,
  ...over,
});

/** Three stages: two gates, then one, then one. */
const threeStages = (over: Partial<GatePolicyDef> = {}): GatePolicyDef =>
  def({
    stages: [
      stage('s1', [gate('g1', { name: 'Security sign-off' }), gate('g2')], 'Security'),
      stage('s2', [gate('g3')], 'Legal'),
      stage('s3', [gate('g4')], 'Launch'),
    ],
    ...over,
  });

const view = (id: string, d: GatePolicyDef, version = 1): PolicyView => ({ id, version, def: d });

const sub = (gateId: string, status: SubmissionStatus, over: Partial<SubmissionView> = {}): SubmissionView => {
  const round = over.round ?? 1;
  return { id: `gsub_${gateId}_${round}`, policyId: 'pol_1', gateId, round, status, conditions: [], ...over };
};

/** The requirements of the one three-stage policy for an app, given its submissions. */
const reqs3 = (subs: SubmissionView[]) => requirements([view('pol_1', threeStages())], ['app'], subs);

/** Gate statuses, stage by stage, as a compact picture. */
const statuses = (r: PolicyRequirement) => r.stages.map((s) => s.gates.map((g) => g.status));
const openPassed = (r: PolicyRequirement) => r.stages.map((s) => ({ id: s.stageId, open: s.open, passed: s.passed }));
const fields = (ps: FieldProblem[]) => ps.map((p) => p.field);

describe('resource types', () => {
  it('are the 15 types of the seed, in its order, with its labels', () => {
    assert.deepEqual(RESOURCE_TYPES, [
      { id: 'app', label: 'Application' },
      { id: 'workflow', label: 'Workflow' },
      { id: 'addon', label: 'Add-on' },
      { id: 'dataSource', label: 'Data Source' },
      { id: 'volume', label: 'Volume' },
      { id: 'mlModel', label: 'AI Model' },
      { id: 'aiGatewayModel', label: 'AI Gateway Model' },
      { id: 'workspace', label: 'Workspace' },
      { id: 'project', label: 'Project' },
      { id: 'skill', label: 'Skill' },
      { id: 'prompt', label: 'Prompt' },
      { id: 'agent', label: 'Agent' },
      { id: 'codeSession', label: 'Code Session' },
      { id: 'abTest', label: 'A/B Test' },
      { id: 'marketplaceApp', label: 'Marketplace App' },
    ]);
  });

  it('every one of them is accepted by a policy, and a near miss is not', () => {
    assert.deepEqual(checkGatePolicy({ applicableResourceTypes: RESOURCE_TYPES.map((t) => t.id), stages: def().stages }), []);
    // ids are case-sensitive: the label or a re-cased id is not a type
    assert.deepEqual(fields(checkGatePolicy({ applicableResourceTypes: ['App', 'Application', 'datasource'], stages: def().stages })), ['applicableResourceTypes.0', 'applicableResourceTypes.1', 'applicableResourceTypes.2']);
  });
});

describe('checkGatePolicy', () => {
  const checklist = (schema?: Record<string, unknown>) => gate('gate_c', { type: 'checklist', ...(schema ? { schema } : {}) });
  const automated = (conditions?: Record<string, unknown>) => gate('gate_a', { type: 'automated', ...(conditions ? { conditions } : {}) });
  const goodSchema = { type: 'object', required: ['owner'], properties: { owner: { type: 'string' } } };
  const goodConditions = { 'scan.critical': 0, 'scan.score': { $gte: 80 } };

  const table: [string, Pick<GatePolicyDef, 'applicableResourceTypes' | 'stages'>, string[]][] = [
    ['the seed example is valid', def(), []],
    ['all three gate types, each well declared, are valid', def({ stages: [stage('s1', [gate('g1')]), stage('s2', [checklist(goodSchema), automated(goodConditions)])] }), []],
    ['several resource types are valid', def({ applicableResourceTypes: ['app', 'workflow', 'agent'] }), []],
    ['an unknown resource type is named by its index', def({ applicableResourceTypes: ['app', 'server'] }), ['applicableResourceTypes.1']],
    ['a stage id used twice: the second is named', def({ stages: [stage('s1', [gate('g1')]), stage('s1', [gate('g2')])] }), ['stages.1.id']],
    ['a gate id used twice in one stage', def({ stages: [stage('s1', [gate('g1'), gate('g1')])] }), ['stages.0.gates.1.id']],
    ['a gate id used twice across stages (a gate is named by its id alone)', def({ stages: [stage('s1', [gate('g1')]), stage('s2', [gate('g2'), gate('g1')])] }), ['stages.1.gates.1.id']],
    ['a stage and a gate may share an id (different namespaces)', def({ stages: [stage('review', [gate('review')])] }), []],
    ['a stage id with a space', def({ stages: [stage('stage 1', [gate('g1')])] }), ['stages.0.id']],
    ['a gate id starting with a dash', def({ stages: [stage('s1', [gate('-g')])] }), ['stages.0.gates.0.id']],
    ['ids may hold _ . : - after the first character', def({ stages: [stage('s_1.a:b-c', [gate('g_1.a:b-c')])] }), []],
    ['an id of 100 characters is fine', def({ stages: [stage('s'.repeat(100), [gate('g1')])] }), []],
    ['an id of 101 characters is too long', def({ stages: [stage('s'.repeat(101), [gate('g1')])] }), ['stages.0.id']],
    ['a stage without gates', def({ stages: [stage('s1', [gate('g1')]), stage('s2', [])] }), ['stages.1.gates']],
    ['a checklist gate without a schema', def({ stages: [stage('s1', [checklist()])] }), ['stages.0.gates.0.schema']],
    ['a checklist gate whose schema is not a valid JSON Schema', def({ stages: [stage('s1', [gate('g1')]), stage('s2', [checklist({ type: 'nope' })])] }), ['stages.1.gates.0.schema']],
    ['a checklist schema with a $ref that leads nowhere', def({ stages: [stage('s1', [checklist({ $ref: '#/definitions/missing' })])] }), ['stages.0.gates.0.schema']],
    ['an approval gate needs no schema', def({ stages: [stage('s1', [gate('g1', { type: 'approval' })])] }), []],
    ['an automated gate without conditions', def({ stages: [stage('s1', [automated()])] }), ['stages.0.gates.0.conditions']],
    ['an automated gate with an unknown operator', def({ stages: [stage('s1', [gate('g1')]), stage('s2', [automated({ score: { $bogus: 1 } })])] }), ['stages.1.gates.0.conditions']],
    ['an automated gate with a regex RE2 refuses (a backreference)', def({ stages: [stage('s1', [automated({ name: { $regex: '(a)\\1' } })])] }), ['stages.0.gates.0.conditions']],
    ['an automated gate with $options but no $regex', def({ stages: [stage('s1', [automated({ name: { $options: 'i' } })])] }), ['stages.0.gates.0.conditions']],
    ['every problem is reported, in document order', def({ applicableResourceTypes: ['nope'], stages: [stage('s1', [checklist(), automated()]), stage('s1', [])] }), ['applicableResourceTypes.0', 'stages.0.gates.0.schema', 'stages.0.gates.1.conditions', 'stages.1.id', 'stages.1.gates']],
  ];
  for (const [name, d, want] of table) it(name, () => assert.deepEqual(fields(checkGatePolicy(d)), want));

  it('messages say what is wrong', () => {
    const [type] = checkGatePolicy(def({ applicableResourceTypes: ['server'] }));
    assert.match(type.message, /unknown resource type "server"/);
    const [dup] = checkGatePolicy(def({ stages: [stage('s1', [gate('g1')]), stage('s2', [gate('g1')])] }));
    assert.match(dup.message, /gate id "g1" is used twice/);
    const [schema] = checkGatePolicy(def({ stages: [stage('s1', [checklist({ type: 'nope' })])] }));
    assert.match(schema.message, /^is not a valid JSON Schema/);
    const [cond] = checkGatePolicy(def({ stages: [stage('s1', [automated({ score: { $bogus: 1 } })])] }));
    assert.match(cond.message, /\$bogus/);
    const [noSchema] = checkGatePolicy(def({ stages: [stage('s1', [checklist()])] }));
    assert.match(noSchema.message, /declares the JSON Schema/);
    const [noConditions] = checkGatePolicy(def({ stages: [stage('s1', [automated()])] }));
    assert.match(noConditions.message, /declares its conditions/);
  });

  it('rejects a checklist schema that cannot validate synchronously ($async)', () => {
    assert.deepEqual(fields(checkGatePolicy(def({ stages: [stage('s1', [checklist({ $async: true, type: 'object', required: ['owner'] })])] }))), ['stages.0.gates.0.schema']);
  });

  it('two different checklist schemas may carry the same $id', () => {
    const a = { $id: 'https://example.com/gates-test/checklist.json', type: 'object', required: ['a'] };
    const b = { $id: 'https://example.com/gates-test/checklist.json', type: 'object', required: ['b'] };
    assert.deepEqual(checkGatePolicy(def({ stages: [stage('s1', [checklist(a)])] })), []);
    assert.deepEqual(checkGatePolicy(def({ stages: [stage('s1', [checklist(b)])] })), []);
  });
});

describe('checkAnswers', () => {
  const schema = {
    type: 'object',
    required: ['owner', 'security'],
    properties: {
      owner: { type: 'string', minLength: 1 },
      contact: { type: 'string', format: 'email' },
      security: {
        type: 'object',
        required: ['reviewed'],
        properties: { reviewed: { type: 'boolean' }, score: { type: 'number', minimum: 0, maximum: 100 } },
      },
      tags: { type: 'array', items: { type: 'string' } },
    },
  };
  const ok = { owner: 'ann', contact: 'ann@example.com', security: { reviewed: true, score: 90 }, tags: ['pii', 'eu'] };

  const table: [string, unknown, FieldProblem | null][] = [
    ['answers that meet the schema', ok, null],
    ['the minimum that meets it', { owner: 'a', security: { reviewed: false } }, null],
    ['a missing top-level answer', { security: { reviewed: true } }, { field: 'data.answers.owner', message: 'owner is required' }],
    ['a missing nested answer', { owner: 'ann', security: {} }, { field: 'data.answers.security.reviewed', message: 'reviewed is required' }],
    ['a nested answer of the wrong type', { ...ok, security: { reviewed: 'yes' } }, { field: 'data.answers.security.reviewed', message: 'must be boolean' }],
    ['a nested number out of range', { ...ok, security: { reviewed: true, score: 101 } }, { field: 'data.answers.security.score', message: 'must be <= 100' }],
    ['an array element of the wrong type', { ...ok, tags: ['pii', 7] }, { field: 'data.answers.tags.1', message: 'must be string' }],
    ['formats are checked', { ...ok, contact: 'not an email' }, { field: 'data.answers.contact', message: 'must match format "email"' }],
    ['no answers at all', undefined, { field: 'data.answers', message: 'must be object' }],
    ['answers that are not an object', ['owner'], { field: 'data.answers', message: 'must be object' }],
  ];
  for (const [name, answers, want] of table) it(name, () => assert.deepEqual(checkAnswers(schema, answers), want));

  it('an empty schema accepts any answers', () => {
    assert.equal(checkAnswers({}, { anything: [1, 2] }), null);
    assert.equal(checkAnswers({}, undefined), null);
  });
});

describe('automatedGatePasses on nested data', () => {
  const g = gate('gate_auto', {
    type: 'automated',
    conditions: {
      'scan.score': { $gte: 80 },
      'deploy.env': { $in: ['staging', 'production'] },
      'repo.url': { $regex: '^https://github\\.com/acme/' },
    },
  });
  const data = { scan: { score: 85, critical: 0 }, deploy: { env: 'production' }, repo: { url: 'https://github.com/acme/portal' } };

  const table: [string, Record<string, unknown>, boolean][] = [
    ['every condition holds', data, true],
    ['$gte at the boundary', { ...data, scan: { score: 80 } }, true],
    ['$gte just below', { ...data, scan: { score: 79.9 } }, false],
    ['$gte does not coerce a string', { ...data, scan: { score: '90' } }, false],
    ['a missing nested field fails', { ...data, scan: {} }, false],
    ['$in: the other listed value', { ...data, deploy: { env: 'staging' } }, true],
    ['$in: a value not listed', { ...data, deploy: { env: 'dev' } }, false],
    ['$in: an array sharing an element', { ...data, deploy: { env: ['dev', 'staging'] } }, true],
    ['$regex: another organisation', { ...data, repo: { url: 'https://github.com/evil/portal' } }, false],
    ['$regex is anchored where the pattern says', { ...data, repo: { url: 'http://x/?https://github.com/acme/' } }, false],
    ['$regex is case-sensitive without $options', { ...data, repo: { url: 'https://GitHub.com/acme/portal' } }, false],
  ];
  for (const [name, d, want] of table) it(name, () => assert.equal(automatedGatePasses(g, d), want));

  it('the conditions also see the data under `data.`', () => {
    const viaData = gate('g', { type: 'automated', conditions: { 'data.scan.score': { $gte: 80 }, 'data.deploy.env': { $in: ['production'] } } });
    assert.equal(automatedGatePasses(viaData, data), true);
    assert.equal(automatedGatePasses(viaData, { ...data, scan: { score: 10 } }), false);
  });

  it('$options "i" makes $regex case-insensitive', () => {
    const ci = gate('g', { type: 'automated', conditions: { 'repo.url': { $regex: '^https://github\\.com/acme/', $options: 'i' } } });
    assert.equal(automatedGatePasses(ci, { repo: { url: 'https://GitHub.com/ACME/portal' } }), true);
    assert.equal(automatedGatePasses(ci, { repo: { url: 'https://gitlab.com/acme/portal' } }), false);
  });
});

describe('policyApplies', () => {
  const table: [string, Partial<GatePolicyDef>, string[], boolean][] = [
    ['active, published, a type in common', {}, ['app'], true],
    ['one type in common among several', { applicableResourceTypes: ['workflow', 'app'] }, ['agent', 'app'], true],
    ['a draft asks nothing', { isDraft: true }, ['app'], false],
    ['an inactive policy asks nothing', { isActive: false }, ['app'], false],
    ['an inactive draft asks nothing', { isActive: false, isDraft: true }, ['app'], false],
    ['a policy for another resource type', { applicableResourceTypes: ['workflow'] }, ['app'], false],
    ['a solution without resources', {}, [], false],
  ];
  for (const [name, over, types, want] of table) it(name, () => assert.equal(policyApplies(def(over), types), want));
});

describe('requirements', () => {
  it('a policy that does not apply is left out: draft, inactive, another resource type', () => {
    const policies = [
      view('pol_live', def()),
      view('pol_draft', def({ isDraft: true })),
      view('pol_off', def({ isActive: false })),
      view('pol_wf', def({ applicableResourceTypes: ['workflow'] })),
      view('pol_both', def({ applicableResourceTypes: ['workflow', 'app'] })),
    ];
    assert.deepEqual(requirements(policies, ['app'], []).map((r) => r.policyId), ['pol_live', 'pol_both']);
    assert.deepEqual(requirements(policies, ['workflow'], []).map((r) => r.policyId), ['pol_wf', 'pol_both']);
    assert.deepEqual(requirements(policies, ['agent'], []), []);
  });

  it('carries the policy’s identity and every gate, not started, before any submission', () => {
    const [r] = requirements([view('pol_1', threeStages({ name: 'Launch', category: 'compliance', severity: 'critical' }), 4)], ['app'], []);
    assert.deepEqual(
      { policyId: r.policyId, policyName: r.policyName, version: r.version, category: r.category, severity: r.severity },
      { policyId: 'pol_1', policyName: 'Launch', version: 4, category: 'compliance', severity: 'critical' },
    );
    assert.deepEqual(r.stages[0], {
      stageId: 's1',
      name: 'Security',
      open: true,
      passed: false,
      gates: [
        { gateId: 'g1', name: 'Security sign-off', type: 'approval', status: 'not_started', submissionId: null, round: 0, conditions: [] },
        { gateId: 'g2', name: 'g2', type: 'approval', status: 'not_started', submissionId: null, round: 0, conditions: [] },
      ],
    });
    assert.deepEqual(openPassed(r), [
      { id: 's1', open: true, passed: false },
      { id: 's2', open: false, passed: false },
      { id: 's3', open: false, passed: false },
    ]);
  });

  describe('a stage passes only when every gate is approved, conditional or waived', () => {
    const table: [SubmissionStatus, boolean][] = [
      ['approved', true],
      ['conditional', true],
      ['waived', true],
      ['in_review', false],
      ['denied', false],
      ['expired', false],
    ];
    for (const [status, passes] of table) {
      it(`approved + ${status}: passed = ${passes}`, () => {
        const [r] = reqs3([sub('g1', 'approved'), sub('g2', status)]);
        assert.equal(r.stages[0].passed, passes);
        assert.equal(r.stages[1].open, passes);
      });
    }
    it('one gate of two not started: not passed', () => {
      const [r] = reqs3([sub('g1', 'approved')]);
      assert.deepEqual(statuses(r), [['approved', 'not_started'], ['not_started'], ['not_started']]);
      assert.equal(r.stages[0].passed, false);
    });
  });

  it('a stage is open only when every earlier stage passed, not just the one before it', () => {
    // Stage 2 passed (say, waived) while stage 1 has not: stage 3 stays closed.
    const [r] = reqs3([sub('g1', 'approved'), sub('g2', 'in_review'), sub('g3', 'waived')]);
    assert.deepEqual(openPassed(r), [
      { id: 's1', open: true, passed: false },
      { id: 's2', open: false, passed: true },
      { id: 's3', open: false, passed: false },
    ]);
  });

  it('stages open one after another as they pass', () => {
    const [r] = reqs3([sub('g1', 'approved'), sub('g2', 'conditional', { conditions: ['encrypt at rest'] }), sub('g3', 'approved')]);
    assert.deepEqual(openPassed(r), [
      { id: 's1', open: true, passed: true },
      { id: 's2', open: true, passed: true },
      { id: 's3', open: true, passed: false },
    ]);
  });

  it('the latest round wins: round 2 replaces a denied round 1, whatever the order given', () => {
    const r1 = sub('g1', 'denied', { round: 1 });
    const r2 = sub('g1', 'approved', { round: 2 });
    for (const subs of [[r1, r2], [r2, r1]]) {
      const g1 = reqs3(subs)[0].stages[0].gates[0];
      assert.deepEqual({ status: g1.status, submissionId: g1.submissionId, round: g1.round }, { status: 'approved', submissionId: 'gsub_g1_2', round: 2 });
    }
  });

  it('a new round in review replaces a denied one (the gate is no longer failed)', () => {
    const g1 = reqs3([sub('g1', 'denied', { round: 1 }), sub('g1', 'in_review', { round: 2 })])[0].stages[0].gates[0];
    assert.equal(g1.status, 'in_review');
    assert.equal(g1.round, 2);
  });

  it('round 3 beats round 2 beats round 1', () => {
    const g1 = reqs3([sub('g1', 'denied', { round: 2 }), sub('g1', 'waived', { round: 3 }), sub('g1', 'expired', { round: 1 })])[0].stages[0].gates[0];
    assert.deepEqual([g1.status, g1.round], ['waived', 3]);
  });

  it('a submission counts only for its own policy', () => {
    const policies = [view('pol_1', def()), view('pol_2', def())];
    const rs = requirements(policies, ['app'], [sub('gate_sec_1', 'approved', { policyId: 'pol_2' })]);
    assert.deepEqual(rs.map((r) => [r.policyId, r.stages[0].gates[0].status]), [['pol_1', 'not_started'], ['pol_2', 'approved']]);
  });

  it('a submission for a gate the policy no longer has is ignored', () => {
    assert.deepEqual(statuses(reqs3([sub('gone', 'denied')])[0]), [['not_started', 'not_started'], ['not_started'], ['not_started']]);
  });

  it('a gate carries the conditions of its latest submission', () => {
    const g2 = reqs3([sub('g2', 'conditional', { round: 1, conditions: ['old'] }), sub('g2', 'conditional', { round: 2, conditions: ['encrypt at rest', 'quarterly review'] })])[0].stages[0].gates[1];
    assert.deepEqual(g2.conditions, ['encrypt at rest', 'quarterly review']);
  });
});

describe('solutionStatus', () => {
  const table: [string, PolicyRequirement[], string][] = [
    ['nothing applies: nothing to pass, approved', [], 'approved'],
    ['only policies that do not apply: approved', requirements([view('p', def({ isDraft: true })), view('q', def({ isActive: false })), view('r', def({ applicableResourceTypes: ['agent'] }))], ['app'], []), 'approved'],
    ['nothing submitted: draft', reqs3([]), 'draft'],
    ['one gate in review: in-review', reqs3([sub('g1', 'in_review')]), 'in-review'],
    ['a first stage passed, the rest not started: in-review', reqs3([sub('g1', 'approved'), sub('g2', 'approved')]), 'in-review'],
    ['every gate approved', reqs3([sub('g1', 'approved'), sub('g2', 'approved'), sub('g3', 'approved'), sub('g4', 'approved')]), 'approved'],
    ['every gate passed, some waived', reqs3([sub('g1', 'waived'), sub('g2', 'approved'), sub('g3', 'waived'), sub('g4', 'approved')]), 'approved'],
    ['every gate passed, one conditional', reqs3([sub('g1', 'approved'), sub('g2', 'conditional', { conditions: ['x'] }), sub('g3', 'waived'), sub('g4', 'approved')]), 'conditionally-approved'],
    ['one denied among approved: blocked', reqs3([sub('g1', 'approved'), sub('g2', 'denied')]), 'blocked'],
    ['one expired blocks like a denial', reqs3([sub('g1', 'approved'), sub('g2', 'expired')]), 'blocked'],
    ['a denial blocks even while another gate is in review', reqs3([sub('g1', 'in_review'), sub('g2', 'denied')]), 'blocked'],
    ['a denial blocks even when every other gate passed', reqs3([sub('g1', 'approved'), sub('g2', 'approved'), sub('g3', 'approved'), sub('g4', 'denied')]), 'blocked'],
    ['round 2 approved after a denied round 1 unblocks', reqs3([sub('g1', 'approved'), sub('g2', 'denied', { round: 1 }), sub('g2', 'approved', { round: 2 })]), 'in-review'],
    ['round 2 in review after a denied round 1 is in review, not blocked', reqs3([sub('g1', 'denied', { round: 1 }), sub('g1', 'in_review', { round: 2 })]), 'in-review'],
    ['a blocked policy blocks the solution though another is approved', requirements([view('pol_1', def()), view('pol_2', def())], ['app'], [sub('gate_sec_1', 'approved', { policyId: 'pol_1' }), sub('gate_sec_1', 'denied', { policyId: 'pol_2' })]), 'blocked'],
    ['every policy must pass: one approved, one not started', requirements([view('pol_1', def()), view('pol_2', def())], ['app'], [sub('gate_sec_1', 'approved', { policyId: 'pol_1' })]), 'in-review'],
  ];
  for (const [name, reqs, want] of table) it(name, () => assert.equal(solutionStatus(reqs), want));
});

describe('locateGate', () => {
  const d = threeStages();
  it('finds a gate in a later stage, with the stage and its index', () => {
    const at = locateGate(d, 'g3');
    assert.ok(at);
    assert.equal(at.stageIndex, 1);
    assert.equal(at.stage, d.stages[1]);
    assert.equal(at.gate, d.stages[1].gates[0]);
  });
  it('finds the second gate of the first stage', () => {
    const at = locateGate(d, 'g2');
    assert.deepEqual([at?.stageIndex, at?.gate.id], [0, 'g2']);
  });
  it('a stage id is not a gate id', () => assert.equal(locateGate(d, 's1'), null));
  it('an unknown gate', () => assert.equal(locateGate(d, 'g9'), null));
});

describe('blockingStage', () => {
  const table: [string, SubmissionView[], string, string | null][] = [
    ['the first stage is always open', [], 's1', null],
    ['stage 2 waits for stage 1', [sub('g1', 'approved')], 's2', 's1'],
    ['stage 2 opens once stage 1 passed', [sub('g1', 'approved'), sub('g2', 'waived')], 's2', null],
    ['stage 3 waits for stage 2 once stage 1 passed', [sub('g1', 'approved'), sub('g2', 'approved')], 's3', 's2'],
    ['stage 3 names the first stage that has not passed', [sub('g1', 'denied'), sub('g2', 'approved'), sub('g3', 'approved')], 's3', 's1'],
    ['stage 3 opens when stages 1 and 2 passed', [sub('g1', 'approved'), sub('g2', 'conditional'), sub('g3', 'approved')], 's3', null],
    ['a later stage failing does not block an earlier one', [sub('g1', 'approved'), sub('g2', 'approved'), sub('g3', 'denied')], 's2', null],
  ];
  for (const [name, subs, stageId, want] of table) {
    it(name, () => assert.equal(blockingStage(reqs3(subs)[0], stageId)?.stageId ?? null, want));
  }
});

describe('blockersOf', () => {
  it('nothing blocks and no conditions when every gate is approved', () => {
    assert.deepEqual(blockersOf(requirements([view('pol_1', def())], ['app'], [sub('gate_sec_1', 'approved')])), { blockers: [], conditions: [] });
  });

  it('lists every gate not passed, in order, with its policy, stage and status', () => {
    const [r] = requirements([view('pol_1', threeStages({ name: 'Launch' }))], ['app'], [sub('g1', 'denied'), sub('g2', 'approved'), sub('g3', 'expired')]);
    assert.deepEqual(blockersOf([r]).blockers, [
      { policyId: 'pol_1', policyName: 'Launch', stageId: 's1', stageName: 'Security', gateId: 'g1', gateName: 'Security sign-off', status: 'denied' },
      { policyId: 'pol_1', policyName: 'Launch', stageId: 's2', stageName: 'Legal', gateId: 'g3', gateName: 'g3', status: 'expired' },
      { policyId: 'pol_1', policyName: 'Launch', stageId: 's3', stageName: 'Launch', gateId: 'g4', gateName: 'g4', status: 'not_started' },
    ]);
  });

  it('collects the conditions of conditional gates, from every policy, and nothing of gates without any', () => {
    const policies = [view('pol_1', threeStages()), view('pol_2', def())];
    const subs = [
      sub('g1', 'approved'),
      sub('g2', 'conditional', { conditions: ['encrypt at rest'] }),
      sub('g3', 'waived'),
      sub('g4', 'conditional', { conditions: ['quarterly review', 'no PII'] }),
      sub('gate_sec_1', 'conditional', { policyId: 'pol_2', conditions: ['pen test by Q3'] }),
    ];
    const out = blockersOf(requirements(policies, ['app'], subs));
    assert.deepEqual(out.blockers, []);
    assert.deepEqual(out.conditions, [
      { policyId: 'pol_1', gateId: 'g2', conditions: ['encrypt at rest'] },
      { policyId: 'pol_1', gateId: 'g4', conditions: ['quarterly review', 'no PII'] },
      { policyId: 'pol_2', gateId: 'gate_sec_1', conditions: ['pen test by Q3'] },
    ]);
    assert.equal(solutionStatus(requirements(policies, ['app'], subs)), 'conditionally-approved');
  });

  it('a conditional round replaced by a denied round: a blocker, its old conditions gone', () => {
    const [r] = requirements([view('pol_1', def())], ['app'], [sub('gate_sec_1', 'conditional', { round: 1, conditions: ['old'] }), sub('gate_sec_1', 'denied', { round: 2 })]);
    const out = blockersOf([r]);
    assert.deepEqual(out.blockers.map((b) => [b.gateId, b.status]), [['gate_sec_1', 'denied']]);
    assert.deepEqual(out.conditions, []);
  });

  it('conditions are collected only from what passed, not from a blocker', () => {
    const [r] = requirements([view('pol_1', def())], ['app'], [sub('gate_sec_1', 'denied', { conditions: ['not met'] })]);
    assert.deepEqual(blockersOf([r]).conditions, []);
  });
});
