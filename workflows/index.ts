// Every export here becomes a workflow type: export workflows only.
export { proposalWorkflow } from './proposal-workflow';
