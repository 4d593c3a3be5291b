import { createBackend } from '@backstage/backend-defaults';

const backend = createBackend();

backend.add(import('@backstage/plugin-app-backend'));

// Sign-in: the guest provider, mapped to a demo user in app-config.yaml.
backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));

// Catalog, with the demo entities and templates from examples/.
backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(
  import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'),
);
backend.add(import('@backstage/plugin-catalog-backend-module-logs'));

// Permissions: a real policy, owners build and deploy their own services.
backend.add(import('@backstage/plugin-permission-backend'));
backend.add(import('./permissionPolicy'));

backend.add(import('@backstage/plugin-scaffolder-backend'));
// publish:gitea, for the model-service template (the platform's git server).
backend.add(import('@backstage/plugin-scaffolder-backend-module-gitea'));
// Template steps that build and deploy a model service through ModelOps, as
// the user who runs the template: modelops:build:trigger and modelops:deploy.
backend.add(import('@modelops/plugin-scaffolder-backend-module-modelops'));

// The official Kubernetes plugin; ModelOps reads the same cluster configuration.
backend.add(import('@backstage/plugin-kubernetes-backend'));

backend.add(import('@modelops/plugin-modelops-backend'));
// The `github-actions` image builder: an entity's modelops/builder or
// modelops.builds.builder chooses it; GitHub credentials from integrations.github.
backend.add(import('@modelops/plugin-modelops-backend-module-github-actions'));

backend.start();
