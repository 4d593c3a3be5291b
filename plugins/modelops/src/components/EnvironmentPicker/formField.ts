import { createFormField } from '@backstage/plugin-scaffolder-react/alpha';
import {
  ENVIRONMENT_PICKER_FIELD,
  EnvironmentPicker,
  environmentPickerValidation,
} from './EnvironmentPicker';

/** The environment picker as a form field of the new frontend system. */
export const environmentPickerFormField = createFormField({
  name: ENVIRONMENT_PICKER_FIELD,
  component: EnvironmentPicker,
  validation: environmentPickerValidation,
});
