/*
 * A deploy of a build names the build: the history says which build (and
 * so which commit) a revision runs, next to the digest it deployed.
 */

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('modelops_deployments', table => {
    table
      .string('build_id', 36)
      .nullable()
      .comment('The image build whose digest this attempt deployed');
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.alterTable('modelops_deployments', table => {
    table.dropColumn('build_id');
  });
};
