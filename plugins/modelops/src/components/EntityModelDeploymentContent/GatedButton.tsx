import Button, { ButtonProps } from '@material-ui/core/Button';
import Tooltip from '@material-ui/core/Tooltip';

/**
 * A button that is disabled with a tooltip saying why when `disabledReason`
 * is set. The tooltip sits on a focusable wrapper, as disabled buttons
 * receive neither hover nor focus.
 */
export function GatedButton(
  props: ButtonProps & { disabledReason?: string; tooltip?: string },
) {
  const { disabledReason, tooltip, ...buttonProps } = props;
  if (disabledReason) {
    return (
      <Tooltip title={disabledReason}>
        {/* eslint-disable-next-line jsx-a11y/no-noninteractive-tabindex */}
        <span tabIndex={0} style={{ display: 'inline-block' }}>
          <Button {...buttonProps} disabled />
        </span>
      </Tooltip>
    );
  }
  const button = <Button {...buttonProps} />;
  return tooltip ? <Tooltip title={tooltip}>{button}</Tooltip> : button;
}
