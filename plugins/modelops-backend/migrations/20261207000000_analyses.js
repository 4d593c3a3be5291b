/*
 * SLO analyses of deployed revisions, and automatic rollbacks in the
 * deployment history: a failed analysis rolls back by itself, and the record
 * of that rollback says so and why.
 */

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('modelops_deployments', table => {
    table
      .boolean('automatic')
      .notNullable()
      .defaultTo(false)
      .comment('ModelOps made this attempt by itself (an automatic rollback)');
    table
      .text('reason')
      .nullable()
      .comment('Why ModelOps made an automatic attempt');
  });
  await knex.schema.createTable('modelops_analyses', table => {
    table.comment('Watches of deployed revisions against their SLOs');
    table.string('id', 36).primary().notNullable();
    table
      .string('deployment_id', 36)
      .notNullable()
      .comment('The deployment whose revision is watched');
    table.string('entity_ref', 255).notNullable();
    table.string('environment', 63).notNullable();
    table.string('cluster', 255).notNullable();
    table.string('namespace', 63).notNullable();
    table.integer('revision').notNullable();
    table
      .string('status', 16)
      .notNullable()
      .comment(
        'running, rolling_back (failed, rollback under way), passed, failed, inconclusive or cancelled',
      );
    table.integer('interval_seconds').notNullable();
    table.string('rate_window', 16).notNullable();
    table.float('min_request_rate').notNullable();
    table.string('on_inconclusive', 16).notNullable();
    table.integer('evaluations').notNullable().defaultTo(0);
    table.integer('conclusive_evaluations').notNullable().defaultTo(0);
    table.text('signals').nullable().comment('JSON: the last evaluation');
    table.text('selector').nullable();
    table.text('breach').nullable().comment('JSON: the signal that failed it');
    table.text('message').nullable();
    table.string('rollback_deployment_id', 36).nullable();
    table.string('cancelled_by', 255).nullable();
    table.timestamp('started_at', { useTz: true }).notNullable();
    table.timestamp('ends_at', { useTz: true }).notNullable();
    table.timestamp('next_evaluation_at', { useTz: true }).notNullable();
    table.timestamp('last_evaluated_at', { useTz: true }).nullable();
    table.timestamp('finished_at', { useTz: true }).nullable();
    table.unique(['deployment_id'], {
      indexName: 'modelops_analyses_deployment_idx',
    });
    table.index(['status', 'next_evaluation_at'], 'modelops_analyses_due_idx');
    table.index(['entity_ref', 'environment'], 'modelops_analyses_entity_idx');
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('modelops_analyses');
  await knex.schema.alterTable('modelops_deployments', table => {
    table.dropColumn('automatic');
    table.dropColumn('reason');
  });
};
