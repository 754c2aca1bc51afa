// Every export here becomes a workflow type: export workflows only.
export { gateWorkflow } from './gate-workflow';
export { notifyWorkflow } from './notify-workflow';
export { proposalWorkflow } from './proposal-workflow';
