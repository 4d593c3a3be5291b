/*
 * Reference distributions for drift computed from input histograms: per
 * model service, environment and revision, the per-feature bucket counts of
 * the first hours after that revision was deployed.
 */

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('modelops_drift_references', table => {
    table.comment(
      'Per-feature input histograms of the reference window after a revision was deployed',
    );
    table
      .string('entity_ref', 255)
      .notNullable()
      .comment('Model service entity ref');
    table.string('environment', 63).notNullable();
    table.integer('revision').notNullable();
    table
      .timestamp('window_start', { useTz: true })
      .notNullable()
      .comment('When the revision was deployed');
    table.timestamp('window_end', { useTz: true }).notNullable();
    table
      .boolean('complete')
      .notNullable()
      .comment('The window spans the configured reference hours');
    table
      .text('histograms')
      .notNullable()
      .comment('Bucket counts as JSON: [{feature, le, value}]');
    table
      .timestamp('computed_at', { useTz: true })
      .notNullable()
      .defaultTo(knex.fn.now());
    table.primary(
      ['entity_ref', 'environment', 'revision'],
      'modelops_drift_references_pkey',
    );
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('modelops_drift_references');
};
