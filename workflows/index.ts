// Every export here becomes a workflow type: export workflows only.
export { notifyWorkflow } from './notify-workflow';
export { proposalWorkflow } from './proposal-workflow';
