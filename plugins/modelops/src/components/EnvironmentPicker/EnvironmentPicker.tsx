import { useApi } from '@backstage/core-plugin-api';
import { Progress } from '@backstage/core-components';
import type {
  CustomFieldValidator,
  FieldExtensionComponentProps,
} from '@backstage/plugin-scaffolder-react';
import {
  ConfiguredEnvironment,
  ModelOpsApi,
} from '@modelops/plugin-modelops-common';
import Checkbox from '@material-ui/core/Checkbox';
import FormControl from '@material-ui/core/FormControl';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import FormGroup from '@material-ui/core/FormGroup';
import FormHelperText from '@material-ui/core/FormHelperText';
import FormLabel from '@material-ui/core/FormLabel';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import useAsync from 'react-use/esm/useAsync';
import { modelOpsApiRef } from '../../api';

/** The name templates use: `ui:field: ModelOpsEnvironmentPicker`. */
export const ENVIRONMENT_PICKER_FIELD = 'ModelOpsEnvironmentPicker';

const useStyles = makeStyles(theme => ({
  // Under the checkbox's label, not under the box.
  detail: { marginLeft: theme.spacing(4), marginTop: theme.spacing(-1) },
}));

/**
 * A template form field that chooses ModelOps environments: one checkbox per
 * environment configured in `modelops.environments`, read from the backend
 * so the form offers exactly what a deploy accepts. An environment whose
 * cluster is not configured is shown, disabled, with the reason.
 */
export function EnvironmentPicker(
  props: FieldExtensionComponentProps<string[]>,
) {
  const {
    formData,
    onChange,
    schema,
    required,
    rawErrors,
    disabled,
    idSchema,
  } = props;
  const classes = useStyles();
  const api = useApi(modelOpsApiRef);
  const { value, loading, error } = useAsync(
    () => api.getConfiguredEnvironments(),
    [api],
  );
  const chosen = formData ?? [];
  const toggle = (name: string, on: boolean) => {
    const next = on
      ? [...chosen.filter(n => n !== name), name]
      : chosen.filter(n => n !== name);
    // Configuration order, whatever order they were ticked in.
    const order = value?.items.map(env => env.name) ?? [];
    next.sort((a, b) => order.indexOf(a) - order.indexOf(b));
    onChange(next);
  };
  const hasErrors = Boolean(rawErrors?.length);

  return (
    <FormControl
      component="fieldset"
      required={required}
      error={hasErrors || Boolean(error)}
      margin="normal"
      id={idSchema?.$id}
    >
      <FormLabel component="legend">{schema.title ?? 'Environments'}</FormLabel>
      {loading && <Progress />}
      {error && (
        <FormHelperText>
          Could not read the ModelOps environments: {error.message}
        </FormHelperText>
      )}
      {value && value.items.length === 0 && (
        <FormHelperText>
          No environments are configured: a platform engineer adds them under
          modelops.environments in app-config.yaml.
        </FormHelperText>
      )}
      {value && value.items.length > 0 && (
        <FormGroup>
          {value.items.map(env => (
            <div key={env.name}>
              <FormControlLabel
                control={
                  <Checkbox
                    color="primary"
                    checked={chosen.includes(env.name)}
                    disabled={
                      disabled ||
                      (Boolean(env.error) && !chosen.includes(env.name))
                    }
                    onChange={(_event, on) => toggle(env.name, on)}
                    name={env.name}
                  />
                }
                label={env.name}
              />
              <Typography
                variant="caption"
                color="textSecondary"
                component="div"
                className={classes.detail}
              >
                Cluster {env.cluster}, namespace {env.namespace}
              </Typography>
              {env.error && (
                <FormHelperText error className={classes.detail}>
                  {env.error.message}
                </FormHelperText>
              )}
            </div>
          ))}
        </FormGroup>
      )}
      {schema.description && (
        <FormHelperText>{schema.description}</FormHelperText>
      )}
    </FormControl>
  );
}

/**
 * Checks the chosen environments against the backend's, before the task
 * starts: an environment that is not configured, or whose cluster is not,
 * is an error on the field naming it. The task checks again on the server
 * (`modelops:environments:check`).
 */
export const environmentPickerValidation: CustomFieldValidator<
  string[]
> = async (value, validation, context) => {
  if (!value?.length) return;
  const api: ModelOpsApi | undefined = context.apiHolder.get(modelOpsApiRef);
  if (!api) return;
  let items: ConfiguredEnvironment[];
  try {
    items = (await api.getConfiguredEnvironments()).items;
  } catch (e) {
    validation.addError(
      `Could not check the environments with ModelOps: ${
        e instanceof Error ? e.message : String(e)
      }`,
    );
    return;
  }
  const configured = new Map(items.map(env => [env.name, env]));
  for (const name of value) {
    const env = configured.get(name);
    if (!env) {
      validation.addError(
        `"${name}" is not a configured ModelOps environment; configured: ${
          items.map(e => e.name).join(', ') || 'none'
        }`,
      );
    } else if (env.error) {
      validation.addError(env.error.message);
    }
  }
};
