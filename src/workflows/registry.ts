/**
 * The workflows meshops runs, by kind: each a list of steps with their titles, the first step
 * that cannot be undone, and its title. The runner and the renderer look runs up here; adding a
 * workflow is one file of steps and one line below.
 */
import { disableClusterWorkflow } from './disableCluster.js';
import { enableBatchWorkflow } from './enableBatch.js';
import { enableClusterWorkflow } from './enableCluster.js';
import { meshConfigWorkflow } from './meshConfig.js';
import { injectWorkflow, uninjectWorkflow } from './namespaces.js';
import type { Step } from './engine.js';
import { newRun, type RunRecord, type StepName, type WorkflowKind } from './run.js';

export interface WorkflowDefinition {
  kind: WorkflowKind;
  /** What the run does, for its root message: e.g. "Enable Cloud Service Mesh on …". */
  title: string;
  /** What its approval prompt asks for: e.g. "sidecar injection on …". */
  approves: string;
  order: readonly StepName[];
  steps: Record<StepName, Step>;
  titles: Record<StepName, string>;
  /** Once this step has begun, the run can no longer be cancelled. */
  pointOfNoReturn: StepName;
  /**
   * A dry run of this workflow is a dry run of each of its members: its own steps (which only read,
   * admit runs and follow them) run as written, not through the recording decorator.
   */
  rehearsesMembers?: true;
}

const definitions: Record<WorkflowKind, WorkflowDefinition> = {
  'enable-cluster': enableClusterWorkflow,
  inject: injectWorkflow,
  uninject: uninjectWorkflow,
  'disable-cluster': disableClusterWorkflow,
  'enable-batch': enableBatchWorkflow,
  'mesh-config': meshConfigWorkflow,
};

export function workflowOf(kind: WorkflowKind): WorkflowDefinition {
  return definitions[kind];
}

/** A new record of a run of `kind`, at its first step. */
export function startRun(
  kind: WorkflowKind,
  input: Omit<Parameters<typeof newRun>[0], 'firstStep' | 'kind'>,
): RunRecord {
  return newRun({ ...input, kind, firstStep: workflowOf(kind).order[0]! });
}
