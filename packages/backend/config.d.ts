export interface Config {
  /** The portal's permission policy. */
  permissionPolicy?: {
    /**
     * Groups whose members may do everything, e.g. `group:default/platform-admins`.
     * @visibility backend
     */
    adminGroups?: string[];
  };
}
