import { WarningPanel } from '@backstage/core-components';
import { ContractProblem } from '@modelops/plugin-modelops-common';

/** Lists annotation problems of the entity, if any. */
export function ContractProblems(props: { problems: ContractProblem[] }) {
  if (props.problems.length === 0) return null;
  return (
    <WarningPanel
      title={`The entity's ModelOps annotations need attention (${props.problems.length})`}
      defaultExpanded
    >
      <ul>
        {props.problems.map(p => (
          <li key={`${p.annotation}:${p.message}`}>
            <code>{p.annotation}</code> {p.message}
          </li>
        ))}
      </ul>
    </WarningPanel>
  );
}
