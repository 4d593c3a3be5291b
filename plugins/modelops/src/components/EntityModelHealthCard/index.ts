export { EntityModelHealthCard } from './EntityModelHealthCard';
