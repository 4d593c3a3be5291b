/*
 * The ModelOps frontend plugin on its own, for `yarn start` in this folder:
 * the catalog and this plugin in a new-frontend-system app, signed in as the
 * guest user (Ada in app-config.yaml). It talks to the backend at
 * backend.baseUrl (http://localhost:7007): start the ModelOps backend with
 * `yarn start` in plugins/modelops-backend, or the whole portal. Open
 * /catalog/default/component/fraud-detector/model-deployment for the Model
 * deployment tab of a demo service, or /model-health for the overview page.
 */
import ReactDOM from 'react-dom/client';
import { SignInPage } from '@backstage/core-components';
import { createFrontendModule } from '@backstage/frontend-plugin-api';
import { createApp } from '@backstage/frontend-defaults';
import { SignInPageBlueprint } from '@backstage/plugin-app-react';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import modelOpsPlugin from '../src/alpha';

const guestSignIn = SignInPageBlueprint.make({
  params: {
    loader: async () => props =>
      <SignInPage {...props} auto providers={['guest']} />,
  },
});

const app = createApp({
  features: [
    catalogPlugin,
    modelOpsPlugin,
    createFrontendModule({ pluginId: 'app', extensions: [guestSignIn] }),
  ],
});

ReactDOM.createRoot(document.getElementById('root')!).render(app.createRoot());
