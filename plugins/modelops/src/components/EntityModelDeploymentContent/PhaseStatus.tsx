import {
  StatusAborted,
  StatusError,
  StatusOK,
  StatusRunning,
  StatusWarning,
} from '@backstage/core-components';
import { RolloutPhase } from '@modelops/plugin-modelops-common';

/** The visible label of each rollout phase. */
export const PHASE_LABELS: Record<RolloutPhase, string> = {
  Available: 'Available',
  Progressing: 'Progressing',
  Failed: 'Failed',
  NotDeployed: 'Not deployed',
  Unknown: 'Unknown',
};

/** A status chip for a rollout phase. */
export function PhaseStatus(props: { phase: RolloutPhase }) {
  const label = PHASE_LABELS[props.phase] ?? props.phase;
  let chip;
  switch (props.phase) {
    case 'Available':
      chip = <StatusOK>{label}</StatusOK>;
      break;
    case 'Progressing':
      chip = <StatusRunning>{label}</StatusRunning>;
      break;
    case 'Failed':
      chip = <StatusError>{label}</StatusError>;
      break;
    case 'NotDeployed':
      chip = <StatusAborted>{label}</StatusAborted>;
      break;
    default:
      chip = <StatusWarning>{label}</StatusWarning>;
  }
  return (
    <span role="img" aria-label={`Rollout status: ${label}`}>
      {chip}
    </span>
  );
}
