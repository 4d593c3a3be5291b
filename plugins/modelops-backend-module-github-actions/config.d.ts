export interface Config {
  modelops?: {
    builds?: {
      /**
       * The `github-actions` image builder: dispatches a workflow in the
       * model service's GitHub repository. Credentials and the API URL come
       * from `integrations.github`; nothing here is required.
       */
      githubActions?: {
        /**
         * The workflow dispatched for a build: its file name in
         * `.github/workflows` or its numeric id (default `modelops-build.yml`).
         * @visibility backend
         */
        workflow?: string;
        /**
         * The repository whose workflow is dispatched, `owner/name` (on the
         * source's host) or `host/owner/name`, instead of the repository of
         * the build's source URL. The workflow runs on the build's ref there.
         * @visibility backend
         */
        repository?: string;
      };
    };
  };
}
