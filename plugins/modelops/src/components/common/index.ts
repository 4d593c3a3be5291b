export { ContractProblems } from './ContractProblems';
export { EntityEnvironments } from './EntityEnvironments';
export { EnvironmentsTable } from './EnvironmentsTable';
export { HealthStatusLabel } from './HealthStatusLabel';
export { ModelServiceGate } from './ModelServiceGate';
export { useEntityEnvironments } from './useEntityEnvironments';
export {
  describeSignal,
  formatValue,
  HEALTH_REFRESH_MS,
  SIGNAL_LABELS,
  useEntityHealth,
} from './health';
