/*
 * Image builds: the first schema named a builder it never had and no source,
 * commit or deploy; no row was ever written to it, so it is replaced.
 */

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.dropTable('modelops_builds');
  await knex.schema.createTable('modelops_builds', table => {
    table.comment('Container image builds of model services');
    table.string('id', 36).primary().notNullable().comment('UUID of the build');
    table.string('entity_ref', 255).notNullable();
    table
      .string('builder', 64)
      .notNullable()
      .comment('Image builder type, e.g. buildkit');
    table
      .string('external_ref', 512)
      .nullable()
      .comment("The builder's own handle, e.g. cluster/namespace/job");
    table.string('external_url', 1024).nullable();
    table.string('git_url', 1024).notNullable();
    table.string('git_ref', 255).notNullable();
    table.string('commit_sha', 64).nullable();
    table.string('context_path', 512).notNullable().defaultTo('.');
    table.string('dockerfile', 512).notNullable().defaultTo('Dockerfile');
    table.text('build_args').nullable().comment('JSON object');
    table
      .string('image', 512)
      .notNullable()
      .comment('The image repository the build pushes to');
    table.string('tag', 128).notNullable();
    table.string('digest', 128).nullable();
    table
      .string('status', 16)
      .notNullable()
      .comment('queued, running, succeeded, failed or cancelled');
    table
      .string('reason', 64)
      .nullable()
      .comment('e.g. lost, DeadlineExceeded');
    table.text('message').nullable();
    table
      .string('deploy_to', 63)
      .nullable()
      .comment('Environment the built digest is deployed to on success');
    table
      .string('deployment_id', 36)
      .nullable()
      .comment('The deploy made from this build');
    table.string('idempotency_key', 255).nullable();
    table.string('requested_by', 255).notNullable();
    table
      .timestamp('created_at', { useTz: true })
      .notNullable()
      .defaultTo(knex.fn.now());
    table
      .timestamp('updated_at', { useTz: true })
      .notNullable()
      .defaultTo(knex.fn.now());
    table.timestamp('started_at', { useTz: true }).nullable();
    table.timestamp('finished_at', { useTz: true }).nullable();
    // One build per key and entity: concurrent triggers with the same key,
    // from any number of backend replicas, meet at this constraint.
    table.unique(['entity_ref', 'idempotency_key'], {
      indexName: 'modelops_builds_idempotency_idx',
    });
    table.unique(['image', 'tag'], { indexName: 'modelops_builds_tag_idx' });
    table.index(['entity_ref', 'created_at'], 'modelops_builds_entity_idx');
    table.index(['status'], 'modelops_builds_status_idx');
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('modelops_builds');
};
