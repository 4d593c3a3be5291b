/*
 * Canary releases: an analysis may watch a canary of its revision, next to
 * the stable Deployments, and promote or remove it when it ends.
 */

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('modelops_analyses', table => {
    table
      .text('canary')
      .nullable()
      .comment(
        'JSON: the canary of a canary release (share, replicas, the stable pods last signals, outcome)',
      );
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.alterTable('modelops_analyses', table => {
    table.dropColumn('canary');
  });
};
