export { ModelHealthOverviewPage } from './ModelHealthOverviewPage';
