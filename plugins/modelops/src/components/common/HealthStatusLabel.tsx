import {
  StatusError,
  StatusOK,
  StatusPending,
  StatusWarning,
} from '@backstage/core-components';
import { HealthStatus } from '@modelops/plugin-modelops-common';

/** The status as a Backstage status icon with its word. */
export function HealthStatusLabel(props: {
  status: HealthStatus;
  children?: React.ReactNode;
}) {
  const text = props.children ?? props.status;
  switch (props.status) {
    case 'ok':
      return <StatusOK>{text}</StatusOK>;
    case 'warning':
      return <StatusWarning>{text}</StatusWarning>;
    case 'critical':
      return <StatusError>{text}</StatusError>;
    default:
      return <StatusPending>{text}</StatusPending>;
  }
}
