import type { Core } from './core';
import { ApprovalService } from './approvals';
import { DecideService } from './decide';
import { DecisionEvents } from './decision-events';
import { DecisionReader } from './decisions';
import { GateService } from './gates';
import { GovernanceModes } from './governance-mode';
import { registerWardnLoader, WardnDecisionExtension, WardnRegistry } from './wardn';
import { PolicyCompiler } from './policy-compiler';
import { PolicyDecisionExtension, registerPolicyLoader } from './policy-layer';
import { PolicyService } from './policy-service';
import { RuleStats } from './rule-stats';
import { Simulator } from './simulator';
import { SmartRuleService } from './smart-rules';
import type { WorkflowGateway } from './workflow-gateway';

export interface AppServices {
  decide: DecideService;
  decisions: DecisionReader;
  approvals: ApprovalService;
  gates: GateService;
  modes: GovernanceModes;
  wardn: WardnRegistry;
  policies: PolicyService;
  compiler: PolicyCompiler;
  ruleStats: RuleStats;
  smartRules: SmartRuleService;
  simulator: Simulator;
  stop(): Promise<void>;
}

/** Wires the decision path with its layers (agent policies) and observers (rule analytics). */
export function buildAppServices(core: Core, workflows: WorkflowGateway): AppServices {
  const { config } = core;
  registerPolicyLoader(core.store);
  const modes = new GovernanceModes(core.ds, core.audit, core.store);
  registerWardnLoader(core.store);
  const approvalDefaults = { tier1TimeoutSeconds: config.APPROVAL_TIER1_TIMEOUT_SECONDS, tier2TimeoutSeconds: config.APPROVAL_TIER2_TIMEOUT_SECONDS, quorum: config.APPROVAL_QUORUM, escrowTierBSeconds: config.WARDN_ESCROW_TIER_B_SECONDS, escrowTierCSeconds: config.WARDN_ESCROW_TIER_C_SECONDS };
  const approvals = new ApprovalService({ ds: core.ds, audit: core.audit, workflows, people: core.people, links: core.links, records: core.records, publicUrl: config.PUBLIC_URL, metrics: core.metrics });
  const decide = new DecideService({
    ds: core.ds,
    audit: core.audit,
    store: core.store,
    workflows,
    records: core.records,
    metrics: core.metrics,
    approvals,
    approvalDefaults,
  });
  decide.use(new PolicyDecisionExtension(core.ds));
  decide.use(new WardnDecisionExtension(core.ds, core.audit));
  const ruleStats = new RuleStats(core.ds);
  ruleStats.start();
  // A process that died between committing a pending decision and starting its workflow leaves it unstarted: resume it.
  const sweep = setInterval(() => void approvals.resumeUnstarted().catch(() => undefined), config.PENDING_SWEEP_SECONDS * 1000);
  sweep.unref();
  const decisionEvents = new DecisionEvents(config.DATABASE_URL);
  decide.observe((orgId, snapshot, verdict) => ruleStats.record(orgId, snapshot.ruleDefs.map((r) => r.id), verdict));
  return {
    decide,
    decisions: new DecisionReader(core.ds, core.audit, decisionEvents),
    approvals,
    modes,
    wardn: new WardnRegistry(core.ds, core.audit, core.store),
    gates: new GateService({ ds: core.ds, audit: core.audit, workflows, approvals, records: core.records, approvalDefaults }),
    policies: new PolicyService(core.ds, core.audit, core.store),
    compiler: new PolicyCompiler(config.LLM_BASE_URL ? { baseUrl: config.LLM_BASE_URL, apiKey: config.LLM_API_KEY, model: config.LLM_MODEL } : null),
    ruleStats,
    smartRules: new SmartRuleService(core.ds, core.audit, core.store),
    simulator: new Simulator(core.ds, core.store),
    stop: async () => {
      clearInterval(sweep);
      await approvals.settleMarks();
      await decisionEvents.close();
      return ruleStats.stop();
    },
  };
}
