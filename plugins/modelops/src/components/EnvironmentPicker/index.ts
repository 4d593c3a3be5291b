export {
  ENVIRONMENT_PICKER_FIELD,
  EnvironmentPicker,
  environmentPickerValidation,
} from './EnvironmentPicker';
