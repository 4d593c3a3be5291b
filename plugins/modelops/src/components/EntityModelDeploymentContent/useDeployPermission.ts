import { modelOpsDeploymentCreatePermission } from '@modelops/plugin-modelops-common';
import { usePermission } from '@backstage/plugin-permission-react';

/** Whether the user may deploy, roll back and promote the entity, and if not, why. */
export function useDeployPermission(entityRef: string): {
  allowed: boolean;
  /** Set when the user may not deploy: the text of the disabled buttons' tooltip. */
  deniedReason?: string;
} {
  const { allowed, loading, error } = usePermission({
    permission: modelOpsDeploymentCreatePermission,
    resourceRef: entityRef,
  });
  if (loading) {
    return { allowed: false, deniedReason: 'Checking your permissions…' };
  }
  if (error) {
    return {
      allowed: false,
      deniedReason: `Could not check the ${modelOpsDeploymentCreatePermission.name} permission: ${error.message}`,
    };
  }
  if (!allowed) {
    return {
      allowed: false,
      deniedReason: `You need the ${modelOpsDeploymentCreatePermission.name} permission on ${entityRef} — owners of this service and platform admins have it`,
    };
  }
  return { allowed: true };
}
