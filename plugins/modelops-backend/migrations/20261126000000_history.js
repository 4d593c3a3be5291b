/*
 * Deploy and build history of model services.
 */

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('modelops_deployments', table => {
    table.comment(
      'Every deploy, rollback and promotion attempt, dry runs included',
    );
    table
      .string('id', 36)
      .primary()
      .notNullable()
      .comment('UUID of the attempt');
    table
      .string('entity_ref', 255)
      .notNullable()
      .comment('Model service entity ref');
    table.string('environment', 63).notNullable();
    table.string('cluster', 255).notNullable();
    table.string('namespace', 63).notNullable();
    table
      .string('action', 16)
      .notNullable()
      .comment('deploy, rollback or promote');
    table.string('image', 512).nullable();
    table
      .integer('revision')
      .nullable()
      .comment('Revision number within entity and environment');
    table
      .text('objects')
      .nullable()
      .comment('Kind, apiVersion and name of each applied object, as JSON');
    table
      .text('manifests')
      .nullable()
      .comment('The rendered manifests that were applied, as JSON');
    table.boolean('dry_run').notNullable().defaultTo(false);
    table
      .string('status', 16)
      .notNullable()
      .comment('pending, succeeded or failed');
    table.text('error').nullable();
    table
      .string('source_deployment_id', 36)
      .nullable()
      .comment('For rollbacks and promotions');
    table.string('requested_by', 255).notNullable().comment('User entity ref');
    table
      .timestamp('created_at', { useTz: true })
      .notNullable()
      .defaultTo(knex.fn.now());
    table.timestamp('finished_at', { useTz: true }).nullable();
    table.index(
      ['entity_ref', 'environment', 'created_at'],
      'modelops_deployments_entity_env_idx',
    );
    // A revision is reserved by inserting a pending row, so two deploys to the
    // same environment can never claim the same revision.
    table.unique(['entity_ref', 'environment', 'revision'], {
      indexName: 'modelops_deployments_revision_idx',
    });
  });

  await knex.schema.createTable('modelops_builds', table => {
    table.comment('Container image builds of model services');
    table.string('id', 36).primary().notNullable().comment('UUID of the build');
    table.string('entity_ref', 255).notNullable();
    table
      .string('provider', 64)
      .notNullable()
      .comment('Image builder type, e.g. kaniko');
    table.string('external_id', 255).nullable().comment("The builder's own id");
    table
      .string('image', 512)
      .notNullable()
      .comment('repository:tag the build pushes');
    table
      .string('status', 16)
      .notNullable()
      .comment('queued, running, succeeded, failed or cancelled');
    table.text('message').nullable();
    table.string('digest', 128).nullable();
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
    table.timestamp('finished_at', { useTz: true }).nullable();
    table.unique(['entity_ref', 'idempotency_key'], {
      indexName: 'modelops_builds_idempotency_idx',
    });
    table.index(['entity_ref', 'created_at'], 'modelops_builds_entity_idx');
    table.index(['status'], 'modelops_builds_status_idx');
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('modelops_builds');
  await knex.schema.dropTable('modelops_deployments');
};
