export { EntityModelMonitoringContent } from './EntityModelMonitoringContent';
